"""The one way work reaches the Celery workers: by task name, after the transaction commits.

Services call these instead of importing the tasks (which import the services): no import
cycle. A broker outage is logged, not raised: the request still succeeds and the reconcile
task queues the work later. Tests replace `_send` through the `dispatched` fixture.
"""

import logging
from functools import partial

from celery import current_app
from django.db import transaction

log = logging.getLogger(__name__)

# Task names, shared with deployments/tasks.py (which registers them) and the beat schedule.
PUSH = "deployments.tasks.push_deployment"
TEARDOWN = "deployments.tasks.teardown_deployment"
SYNC = "deployments.tasks.sync_status"
RECONCILE = "deployments.tasks.reconcile"
ROLLUP = "deployments.tasks.rollup_spend"


def _send(name, args):
    current_app.send_task(name, args=list(args))


def _publish(name, *args):
    try:
        _send(name, args)
    except Exception as exc:  # kombu raises several types when Redis is unreachable
        log.warning("could not queue %s%r (%s); the reconcile task will retry", name, args, exc)


def _on_commit(name, *args):
    """Queue once the surrounding transaction commits, so the worker sees the rows."""
    transaction.on_commit(partial(_publish, name, *args))


def push_dispatch(*, deployment_id, revision):
    _on_commit(PUSH, deployment_id, revision)


def teardown_dispatch(*, deployment_id):
    _on_commit(TEARDOWN, deployment_id)


def sync_dispatch():
    _on_commit(SYNC)
