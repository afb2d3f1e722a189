"""Who and what a log record is about: request id, user, deployment and Celery task id, on every record.

The ids live in context variables, set by `RequestContextMiddleware` in the web process and by the
Celery task_prerun/task_postrun signals in the workers; `ContextFilter` copies them onto each
record, so any formatter (JSON with LOG_FORMAT=json, text otherwise) can print them and every
module keeps logging with plain `logging.getLogger(__name__)`.
"""

import contextvars
import inspect
import logging
import re
import uuid

from celery.signals import task_postrun, task_prerun

CONTEXT_FIELDS = ("request_id", "user", "deployment_id", "task_id")
_context = contextvars.ContextVar("gantry_log_context", default={})

# A client's id is kept only if it looks like one: it is echoed in a header and written to the logs.
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
# Routes whose `pk` is a deployment's id.
_DEPLOYMENT_ROUTES = ("deployments/", "api/v1/deployments/")


def log_context_set(**values):
    """Add ids to the current context; returns a token for `log_context_reset`."""
    return _context.set({**_context.get(), **{k: v for k, v in values.items() if v is not None}})


def log_context_reset(token):
    _context.reset(token)


def log_context():
    return dict(_context.get())


class ContextFilter(logging.Filter):
    """Puts the context's ids on the record (None where unknown), without overriding an explicit `extra`."""

    def filter(self, record):
        context = _context.get()
        for field in CONTEXT_FIELDS:
            if not hasattr(record, field):
                setattr(record, field, context.get(field))
        return True


class RequestContextMiddleware:
    """Takes the caller's X-Request-ID (or makes one), returns it on the response, logs one line per request."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.log = logging.getLogger("gantry.request")

    def __call__(self, request):
        given = request.headers.get("X-Request-ID", "")
        request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
        request.request_id = request_id
        token = log_context_set(request_id=request_id)
        try:
            response = self.get_response(request)
            user = getattr(request, "user", None)
            if user is not None and user.is_authenticated:
                log_context_set(user=user.get_username())
            response["X-Request-ID"] = request_id
            self.log.info("%s %s %s", request.method, request.path, response.status_code,
                          extra={"path": request.path, "method": request.method, "status": response.status_code})
            return response
        finally:
            log_context_reset(token)

    def process_view(self, request, view_func, view_args, view_kwargs):
        # Known from here on for the view's own log lines (the session user is loaded lazily).
        user = getattr(request, "user", None)
        match = request.resolver_match
        deployment_id = view_kwargs.get("pk") if match and match.route.startswith(_DEPLOYMENT_ROUTES) else None
        log_context_set(user=user.get_username() if user is not None and user.is_authenticated else None,
                        deployment_id=deployment_id)


def _deployment_id(task, args, kwargs):
    """The task's `deployment_id` argument, by name or position, when it has one."""
    try:
        bound = inspect.signature(task.run).bind_partial(*(args or ()), **(kwargs or {}))
    except (TypeError, ValueError):
        return None
    return bound.arguments.get("deployment_id")


_task_tokens = {}


@task_prerun.connect
def task_context_start(task_id=None, task=None, args=None, kwargs=None, **_):
    _task_tokens[task_id] = log_context_set(task_id=task_id, deployment_id=_deployment_id(task, args, kwargs))


@task_postrun.connect
def task_context_end(task_id=None, **_):
    token = _task_tokens.pop(task_id, None)
    if token is not None:
        try:
            log_context_reset(token)
        except ValueError:  # set in another context (a pool that switched threads): nothing to undo here
            pass
