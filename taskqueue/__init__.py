"""taskqueue: the one way work reaches the Celery workers, by task name, once the transaction commits.

By name, so services never import the tasks (which import the services). A broker outage is logged, not
raised: the action that queued the work has succeeded, and each caller says how the work is picked up
later (reconcile re-queues pushes; a delivery stays pending). Tests replace `_send` (the `dispatched`
fixture in tests/dispatch_fixtures.py).
"""

import logging
from functools import partial

from celery import current_app
from django.db import transaction

log = logging.getLogger(__name__)


def _send(name, args):
    current_app.send_task(name, args=list(args))


def _publish(name, args, later):
    try:
        _send(name, args)
    except Exception as exc:  # kombu raises several types when Redis is unreachable
        log.warning("could not queue %s%r (%s); %s", name, tuple(args), exc, later)


def send_after_commit(name, *args, later):
    """Queue task `name` once the surrounding transaction commits, so the worker sees the rows.
    `later`: what picks the work up if the broker is down, for the log."""
    transaction.on_commit(partial(_publish, name, args, later))
