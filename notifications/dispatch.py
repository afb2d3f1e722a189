"""Deliveries reach the workers by task name, after the transaction commits (as deployments/dispatch.py).

A broker outage is logged, not raised: the action that caused the message has already succeeded and
the Delivery row stays pending. Tests replace `_send` through the `dispatched` fixture.
"""

import logging
from functools import partial

from celery import current_app
from django.db import transaction

log = logging.getLogger(__name__)

DELIVER = "notifications.tasks.deliver"


def _send(name, args):
    current_app.send_task(name, args=list(args))


def _publish(name, *args):
    try:
        _send(name, args)
    except Exception as exc:  # kombu raises several types when Redis is unreachable
        log.warning("could not queue %s%r (%s); the delivery stays pending", name, args, exc)


def deliver_dispatch(*, delivery_id):
    transaction.on_commit(partial(_publish, DELIVER, delivery_id))
