"""One error shape for the whole API: {"errors": [{"code", "field", "message"}]}."""

from rest_framework import exceptions
from rest_framework.views import exception_handler as drf_exception_handler


def _flatten(detail, field=None):
    if isinstance(detail, dict):
        out = []
        for key, value in detail.items():
            sub = key if field is None else f"{field}.{key}"
            if key in ("non_field_errors", "detail"):
                sub = field
            out.extend(_flatten(value, sub))
        return out
    if isinstance(detail, list):
        out = []
        for i, item in enumerate(detail):
            sub = field
            if isinstance(item, (dict, list)):
                sub = f"{field}[{i}]" if field else str(i)
            out.extend(_flatten(item, sub))
        return out
    code = getattr(detail, "code", "invalid")
    return [{"code": code, "field": field, "message": str(detail)}]


def exception_handler(exc, context):
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.APIException):
        errors = _flatten(exc.detail)
        if isinstance(exc, exceptions.Throttled):
            for error in errors:
                error["code"] = "throttled"
        response.data = {"errors": errors}
    return response
