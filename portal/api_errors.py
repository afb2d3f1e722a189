"""One error shape for the whole API: {"errors": [{"code", "field", "message"}]}.

Every error leaves through `exception_handler`: DRF's own (401, 403, 404, 405,
415, 429 ...), Django's Http404/PermissionDenied raised by selectors and
services, and the lifecycle's SpecInvalid (400), DeploymentConflict (409) and
IdempotencyKeyReused (422).
Unknown /api/ URLs get the same shape from `api_not_found` (handler404).
"""

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, JsonResponse
from django.views.defaults import page_not_found, server_error
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from deployments.errors import DeploymentConflict, IdempotencyKeyReused, SpecInvalid

# DRF's default codes are fine except these, which scripts match on.
CODES = {
    exceptions.NotFound: "not_found",
    exceptions.Throttled: "throttled",
}


def error(code, field, message):
    return {"code": code, "field": field, "message": message}


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
    return [error(code, field, str(detail))]


def _lifecycle_response(exc):
    """SpecInvalid and DeploymentConflict come from the services the browser uses too."""
    if isinstance(exc, SpecInvalid):
        return Response({"errors": list(exc.errors)}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DeploymentConflict):
        return Response({"errors": [error("conflict", getattr(exc, "field", None), str(exc))]},
                        status=status.HTTP_409_CONFLICT)
    if isinstance(exc, IdempotencyKeyReused):
        return Response({"errors": [error("idempotency_key_reused", "Idempotency-Key", str(exc))]},
                        status=status.HTTP_422_UNPROCESSABLE_ENTITY)
    return None


def exception_handler(exc, context):
    lifecycle = _lifecycle_response(exc)
    if lifecycle is not None:
        return lifecycle
    if isinstance(exc, RequestDataTooBig):
        # Django raises this while DRF reads the body; left alone it becomes an HTML 400 page.
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 1024
        return Response({"errors": [error("too_large", None, f"The request body is too large; send at most "
                                          f"{limit} KiB (a spec is a few KiB).")]},
                        status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    # Convert Django's exceptions here (DRF would too, but then `exc` would not carry `.detail`).
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or "Not found.")
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.APIException):
        errors = _flatten(exc.detail)
        code = next((c for cls, c in CODES.items() if isinstance(exc, cls)), None)
        for item in errors:
            if code:
                item["code"] = code
        response.data = {"errors": errors}
    return response


def api_not_found(request, exception=None):
    """handler404: JSON in the one shape under /api/, Django's HTML page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"errors": [error("not_found", None, "No such API endpoint.")]}, status=404)
    return page_not_found(request, exception)


def api_server_error(request):
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"errors": [error("server_error", None, "Something went wrong on our side; try again later.")]},
            status=500,
        )
    return server_error(request)
