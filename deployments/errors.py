"""What the lifecycle commands raise; the API and the pages turn them into one error shape."""


class SpecInvalid(Exception):
    """The spec has blocking errors: a list of {code, field, message} dicts."""

    def __init__(self, errors):
        super().__init__("; ".join(e.get("message", "") for e in errors))
        self.errors = errors


class DeploymentConflict(Exception):
    """Someone else changed the deployment's status first; reload and try again."""


class IdempotencyKeyReused(Exception):
    """The Idempotency-Key was used in the last 24 hours for a request with another body."""


class RolloutConflict(DeploymentConflict):
    """A rollout step that cannot happen now (409), naming the field or state that prevents it."""

    def __init__(self, message, field=None):
        super().__init__(message)
        self.field = field
