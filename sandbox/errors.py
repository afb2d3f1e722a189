"""API errors rendered as the Kubernetes Status object a real API server sends."""


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


def not_found(rt, name):
    return ApiError(404, "NotFound", f'{rt.plural}{"." + rt.group if rt.group else ""} "{name}" not found',
                    details={"name": name, "group": rt.group, "kind": rt.plural})


def already_exists(rt, name):
    return ApiError(409, "AlreadyExists",
                    f'{rt.plural}{"." + rt.group if rt.group else ""} "{name}" already exists',
                    details={"name": name, "group": rt.group, "kind": rt.plural})


def invalid(rt, name, problems):
    """422 Invalid with the message shape of the API server: Kind.group "name" is invalid: ..."""
    joined = problems[0] if len(problems) == 1 else "[" + ", ".join(problems) + "]"
    causes = [{"reason": "FieldValueInvalid", "message": p, "field": p.split(":", 1)[0]} for p in problems]
    return ApiError(422, "Invalid", f'{rt.qualified_kind} "{name}" is invalid: {joined}',
                    details={"name": name, "group": rt.group, "kind": rt.kind, "causes": causes})


def bad_request(message):
    return ApiError(400, "BadRequest", message)
