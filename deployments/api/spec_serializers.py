"""The v1 spec as OpenAPI describes it, built from specs/schema.py.

Documentation only: the API hands the body to specs.validation.spec_validate, which decides
what is allowed. Built from the one schema, so the docs never drift from the validator.
"""

from rest_framework import serializers

from specs.schema import BOOL, FIELDS, INT, NUMBER, SECTIONS_DECLARED, STR, STR_LIST, STR_MAP, section_fields


def _field(declared, *, required):
    common = {"required": required, "help_text": declared.help or None}
    if declared.choices:
        return serializers.ChoiceField(choices=list(declared.values), **common)
    if declared.type == INT:
        return serializers.IntegerField(min_value=declared.minimum, max_value=declared.maximum, **common)
    if declared.type == NUMBER:
        return serializers.FloatField(min_value=declared.minimum, **common)
    if declared.type == BOOL:
        return serializers.BooleanField(**common)
    if declared.type == STR_LIST:
        return serializers.ListField(child=serializers.CharField(), **common)
    if declared.type == STR_MAP:
        return serializers.DictField(child=serializers.CharField(), **common)
    assert declared.type == STR, declared
    return serializers.CharField(**common)


def _serializer(class_name, doc, fields, extra=()):
    attrs = {"__doc__": doc, "__module__": __name__}
    for declared in fields:
        attrs[declared.name] = _field(declared, required=declared.required)
    attrs.update(extra)
    return type(class_name, (serializers.Serializer,), attrs)


def _section_serializer(section):
    # OpenAPI component names come from the class names: Runtime, Model, Storage ...
    cls = _serializer(f"{section.name.capitalize()}Serializer", section.help, section_fields(section.name))
    help_text = section.help + (f" ({section.workload} only)" if section.workload else "")
    return cls(required=section.required, help_text=help_text)


DeploymentSpecSerializer = _serializer(
    "DeploymentSpecSerializer",
    "A v1 deployment spec (SPEC.md). Optional fields left out are filled in by the recommender.",
    [f for f in FIELDS if f.section is None],
    extra={s.name: _section_serializer(s) for s in SECTIONS_DECLARED},
)
