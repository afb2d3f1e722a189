"""Post an admin change form the way a browser would: the rendered values, with some changed."""

from decimal import Decimal


def _value(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "on" if value else None
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    return str(getattr(value, "pk", value))


def _form_values(form, data):
    for name in form.fields:
        value = _value(form[name].value())
        if value is not None:
            data[form.add_prefix(name)] = value


def change_form_data(response, **changes):
    """The POST body of the admin change page in `response`, with `changes` applied (None removes a field)."""
    data = {}
    _form_values(response.context["adminform"].form, data)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        _form_values(formset.management_form, data)
        for form in formset.forms:
            _form_values(form, data)
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data
