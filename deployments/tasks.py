"""Thin Celery tasks: load by id, call a service, decide what to retry. Queued only via deployments/dispatch.py."""

import logging
import random

from celery import shared_task
from django.conf import settings

from clusters import ClusterError
from spend.rollups import rollup_spend as spend_rollup_run

from . import dispatch, metrics
from .services import capacity, push, sync
from .services import reconcile as reconcile_service

log = logging.getLogger(__name__)

RETRY_CAP_SECONDS = 300


def retry_countdown(attempt):
    """Exponential backoff with jitter, so many failed pushes do not come back in lockstep."""
    delay = min(RETRY_CAP_SECONDS, settings.PUSH_RETRY_BASE_SECONDS * (2 ** attempt))
    return delay * random.uniform(0.5, 1.0)


def _retry_or_raise(task, exc):
    """Retry a transient ClusterError while attempts remain; returns when the caller should give up."""
    if not exc.permanent and task.request.retries < settings.PUSH_MAX_RETRIES:
        log.warning("%s: %s (attempt %s, will retry)", task.name, exc.message, task.request.retries + 1)
        metrics.metric_count(metrics.RETRY + task.name.rsplit(".", 1)[-1])
        raise task.retry(exc=exc, countdown=retry_countdown(task.request.retries),
                         max_retries=settings.PUSH_MAX_RETRIES)


@shared_task(name=dispatch.PUSH, bind=True, acks_late=True, max_retries=None)
def push_deployment(self, deployment_id, revision):
    try:
        applied = push.deployment_push(deployment_id=deployment_id, revision=revision)
    except ClusterError as exc:
        _retry_or_raise(self, exc)
        message = exc.message if exc.permanent else f"{exc.message} (gave up after {self.request.retries + 1} attempts)"
        push.deployment_push_failed(deployment_id=deployment_id, revision=revision, message=message)
        metrics.metric_count(metrics.PUSH_FAILED)
        return False
    metrics.metric_count(metrics.PUSH_APPLIED if applied else metrics.PUSH_SKIPPED)
    return applied


@shared_task(name=dispatch.TEARDOWN, bind=True, acks_late=True, max_retries=None)
def teardown_deployment(self, deployment_id):
    try:
        return push.deployment_teardown_run(deployment_id=deployment_id)
    except ClusterError as exc:
        _retry_or_raise(self, exc)
        if exc.permanent:
            # Retrying cannot help (403, 422 ...): say so on the deployment instead of retrying forever.
            push.deployment_teardown_failed(deployment_id=deployment_id, message=exc.message)
            metrics.metric_count(metrics.TEARDOWN_FAILED)
        else:
            # Still deleting: the reconcile task queues the teardown again later.
            log.error("teardown of deployment %s failed: %s", deployment_id, exc.message)
        return False


@shared_task(name=dispatch.SYNC, ignore_result=True)
def sync_status():
    return sync.status_sync()


@shared_task(name=dispatch.RECONCILE, ignore_result=True)
def reconcile():
    return reconcile_service.reconcile()


@shared_task(name=dispatch.ROLLUP, ignore_result=True)
def rollup_spend():
    return spend_rollup_run()


@shared_task(name=dispatch.CAPACITY, ignore_result=True)
def refresh_capacity():
    result = capacity.capacity_refresh()
    return {"updated": result.updated, "read": result.read, "failed": result.failed}
