"""What the portal's /metrics reports about deployments: worker counts kept in Redis, and fleet totals.

The counts of pushes, retries and sync cycles happen in the Celery workers, which run in other
processes (other containers or pods in production) than the web process that answers /metrics. A
prometheus_client counter incremented there would never be scraped, and prometheus_client's
multiprocess mode only shares files between processes of one host. Redis is what web and workers
already share (the broker), so each count is one HINCRBY in a hash, read back at scrape time;
counters keep counting across worker restarts, and a Redis flush is an ordinary counter reset to
Prometheus. Recording is bounded in time and never fails the work it counts.

Fleet totals (deployments by status, GPUs by team) are not counted at all: they are read from
PostgreSQL when Prometheus scrapes, so they are right whichever process changed them.
"""

import logging

import redis
from django.conf import settings
from django.db.models import Count, Sum

from specs.vocabulary import Status

from .models import Deployment
from .state import LIVE_STATUSES

log = logging.getLogger(__name__)

KEY = "gantry:metrics"
TIMEOUT_SECONDS = 0.5
# Upper bounds of the sync cycle duration histogram, in seconds.
SYNC_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

# Count names (fields of the hash). Labels are folded into the name: "<metric>:<label value>".
PUSH_APPLIED, PUSH_SKIPPED, PUSH_FAILED = "pushes:applied", "pushes:skipped", "pushes:failed"
TEARDOWN_FAILED = "teardowns:failed"
RETRY = "retries:"  # + task name
SYNC_CYCLES, SYNC_SECONDS, SYNC_SEEN = "sync:cycles", "sync:seconds", "sync:deployments_seen"
SYNC_LAST_DEPLOYMENTS, SYNC_LAST_NAMESPACES = "sync:last_deployments", "sync:last_namespaces"
SYNC_BUCKET = "sync:le:"  # + bucket bound, cumulative like Prometheus' buckets

_client = None


def redis_client():
    global _client
    if _client is None:
        _client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=TIMEOUT_SECONDS,
                                       socket_timeout=TIMEOUT_SECONDS)
    return _client


def _write(build):
    try:
        pipe = redis_client().pipeline(transaction=False)
        build(pipe)
        pipe.execute()
    except redis.RedisError as exc:
        log.warning("metrics not recorded: %s", exc)


def metric_count(name, amount=1):
    _write(lambda pipe: pipe.hincrby(KEY, name, amount))


def sync_cycle_record(*, seconds, deployments, namespaces, **_):
    def build(pipe):
        pipe.hincrby(KEY, SYNC_CYCLES, 1)
        pipe.hincrbyfloat(KEY, SYNC_SECONDS, seconds)
        pipe.hincrby(KEY, SYNC_SEEN, deployments)
        pipe.hset(KEY, mapping={SYNC_LAST_DEPLOYMENTS: deployments, SYNC_LAST_NAMESPACES: namespaces})
        for bound in SYNC_BUCKETS:
            if seconds <= bound:
                pipe.hincrby(KEY, f"{SYNC_BUCKET}{bound}", 1)

    _write(build)


def metrics_read():
    """{name: float} of every recorded count; raises redis.RedisError (the caller reports it)."""
    raw = redis_client().hgetall(KEY)
    return {name.decode(): float(value) for name, value in raw.items()}


def deployments_by_status():
    """{status: count} over every deployment that is not deleted."""
    rows = Deployment.objects.exclude(status=Status.DELETED).values("status").annotate(n=Count("id"))
    return {row["status"]: row["n"] for row in rows}


def gpus_in_use_by_team():
    """{team slug: GPUs held now} for teams with a live deployment."""
    rows = (Deployment.objects.filter(status__in=LIVE_STATUSES).values("team__slug")
            .annotate(gpus=Sum("gpus_in_use")))
    return {row["team__slug"]: row["gpus"] or 0 for row in rows}
