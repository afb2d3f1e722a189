"""API errors rendered as the Kubernetes Status object a real API server sends.

Shapes from k8s.io/apimachinery v0.31 pkg/api/errors/errors.go (NewNotFound, NewAlreadyExists,
NewConflict, NewInvalid): details.kind holds the *resource* for NotFound/AlreadyExists/Conflict
and the Kind for Invalid, exactly as the apiserver fills them.
"""

# field.ErrorType -> the cause reason the apiserver puts in details.causes
# (k8s.io/apimachinery/pkg/util/validation/field/errors.go).
CAUSE_REASONS = {"Invalid value": "FieldValueInvalid", "Forbidden": "FieldValueForbidden",
                 "Required value": "FieldValueRequired", "Unsupported value": "FieldValueNotSupported"}


class ApiError(Exception):
    def __init__(self, code, reason, message, details=None):
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details or {}

    def status(self):
        body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": self.message, "reason": self.reason, "code": self.code}
        if self.details:
            body["details"] = self.details
        return body


def _details(rt, name):
    details = {"name": name, "kind": rt.plural}
    if rt.group:
        details["group"] = rt.group
    return details


def not_found(rt, name):
    return ApiError(404, "NotFound", f'{rt.qualified_resource} "{name}" not found', details=_details(rt, name))


def already_exists(rt, name):
    return ApiError(409, "AlreadyExists", f'{rt.qualified_resource} "{name}" already exists',
                    details=_details(rt, name))


def conflict(rt, name, why):
    """NewConflict: 'Operation cannot be fulfilled on <resource> "<name>": <why>'."""
    return ApiError(409, "Conflict", f'Operation cannot be fulfilled on {rt.qualified_resource} "{name}": {why}',
                    details=_details(rt, name))


STALE_OBJECT = "the object has been modified; please apply your changes to the latest version and try again"


def invalid(rt, name, problems):
    """422 Invalid with the message shape of the API server: Kind.group "name" is invalid: ...

    Each problem reads "field.path: Error type: detail", as field.Error.Error() renders it.
    """
    joined = problems[0] if len(problems) == 1 else "[" + ", ".join(problems) + "]"
    causes = []
    for problem in problems:
        path, _, rest = problem.partition(": ")
        error_type = rest.split(":", 1)[0]
        causes.append({"reason": CAUSE_REASONS.get(error_type, "FieldValueInvalid"), "message": rest or problem,
                       "field": path})
    details = {"name": name, "kind": rt.kind, "causes": causes}
    if rt.group:
        details["group"] = rt.group
    return ApiError(422, "Invalid", f'{rt.qualified_kind} "{name}" is invalid: {joined}', details=details)


def bad_request(message):
    return ApiError(400, "BadRequest", message)
