"""/metrics: the portal's own numbers in Prometheus' text format, for the platform team.

Three sources, each kept where it is right:
- requests by view and status: counted in this process by `RequestMetricsMiddleware`. Under
  gunicorn's several worker processes set PROMETHEUS_MULTIPROC_DIR (prometheus_client's
  multiprocess mode) so a scrape sums every process, not just the one that answered it;
- pushes, retries, failures and sync cycles: counted by the Celery workers in Redis
  (deployments/metrics.py says why), read at scrape time;
- queue depth, deployments by status, GPUs in use and spend by team: read at scrape time.

Not public: answered only with `Authorization: Bearer <METRICS_TOKEN>`; without METRICS_TOKEN set
the URL does not exist (404), with a wrong or missing token it is 403.
"""

import hmac
import logging
import os
import time

import redis
from django.conf import settings
from django.http import Http404, HttpResponse, HttpResponseForbidden
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.multiprocess import MultiProcessCollector

from deployments import metrics as deployment_metrics
from deployments.selectors_fleet import spend_by_team_this_month

log = logging.getLogger(__name__)

CELERY_QUEUE = "celery"

REQUESTS = Counter("gantry_http_requests", "HTTP requests answered, by view, method and status",
                   ["view", "method", "status"])
REQUEST_SECONDS = Histogram("gantry_http_request_duration_seconds", "Time to answer a request, by view", ["view"])


class RequestMetricsMiddleware:
    """Counts every response by the view's URL name (never the raw path: ids would explode the series)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        view = (match.view_name or match.route) if match else "unresolved"
        REQUESTS.labels(view, request.method, str(response.status_code)).inc()
        REQUEST_SECONDS.labels(view).observe(time.perf_counter() - started)
        return response


def _worker_families(counts):
    pushes = CounterMetricFamily("gantry_pushes", "Pushes handled by the workers, by result", labels=["result"])
    retries = CounterMetricFamily("gantry_task_retries", "Transient cluster errors retried, by task", labels=["task"])
    failures = CounterMetricFamily("gantry_task_failures", "Pushes and tear downs that gave up", labels=["task"])
    for name, value in counts.items():
        kind, _, label = name.partition(":")
        if kind == "pushes":
            pushes.add_metric([label], value)
        elif kind == "retries":
            retries.add_metric([label], value)
    failures.add_metric(["push_deployment"], counts.get(deployment_metrics.PUSH_FAILED, 0))
    failures.add_metric(["teardown_deployment"], counts.get(deployment_metrics.TEARDOWN_FAILED, 0))
    yield from (pushes, retries, failures)
    buckets = [(str(b), counts.get(f"{deployment_metrics.SYNC_BUCKET}{b}", 0)) for b in deployment_metrics.SYNC_BUCKETS]
    cycles = counts.get(deployment_metrics.SYNC_CYCLES, 0)
    yield HistogramMetricFamily("gantry_sync_duration_seconds", "Duration of a status sync cycle",
                                buckets=[*buckets, ("+Inf", cycles)],
                                sum_value=counts.get(deployment_metrics.SYNC_SECONDS, 0))
    yield CounterMetricFamily("gantry_sync_deployments_seen", "Deployments observed by status sync, summed over cycles",
                              value=counts.get(deployment_metrics.SYNC_SEEN, 0))
    yield GaugeMetricFamily("gantry_sync_last_deployments", "Deployments observed by the last sync cycle",
                            value=counts.get(deployment_metrics.SYNC_LAST_DEPLOYMENTS, 0))
    yield GaugeMetricFamily("gantry_sync_last_namespaces", "Namespaces listed by the last sync cycle",
                            value=counts.get(deployment_metrics.SYNC_LAST_NAMESPACES, 0))


class GantryCollector:
    """Computed at scrape time: a few aggregate queries and two Redis reads, each bounded."""

    def collect(self):
        errors = GaugeMetricFamily("gantry_metrics_source_up", "1 if the source could be read for this scrape",
                                   labels=["source"])
        try:
            client = deployment_metrics.redis_client()
            depth = client.llen(CELERY_QUEUE)
            counts = deployment_metrics.metrics_read()
        except redis.RedisError as exc:
            log.warning("metrics: Redis unreachable: %s", exc)
            errors.add_metric(["redis"], 0)
        else:
            errors.add_metric(["redis"], 1)
            yield self._queue(depth)
            yield from _worker_families(counts)
        yield errors
        by_status = GaugeMetricFamily("gantry_deployments", "Deployments by status (deleted left out)",
                                      labels=["status"])
        for status, count in sorted(deployment_metrics.deployments_by_status().items()):
            by_status.add_metric([status], count)
        gpus = GaugeMetricFamily("gantry_gpus_in_use", "GPUs held by live deployments, by team", labels=["team"])
        for team, count in sorted(deployment_metrics.gpus_in_use_by_team().items()):
            gpus.add_metric([team], count)
        spend = GaugeMetricFamily("gantry_team_spend_month_usd", "Spend since the 1st of the month (daily rollups)",
                                  labels=["team"])
        for row in spend_by_team_this_month():
            spend.add_metric([row["team"].slug], float(row["spend"]))
        yield from (by_status, gpus, spend)

    @staticmethod
    def _queue(depth):
        family = GaugeMetricFamily("gantry_queue_depth", "Messages waiting in the Celery queue", labels=["queue"])
        family.add_metric([CELERY_QUEUE], depth)
        return family


def _registry():
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
    else:
        registry = CollectorRegistry()
        registry.register(_ProcessRegistry())
    registry.register(GantryCollector())
    return registry


class _ProcessRegistry:
    """This process' own counters (REGISTRY), inside the per-scrape registry with the computed ones."""

    def collect(self):
        yield from REGISTRY.collect()


def metrics_view(request):
    token = getattr(settings, "METRICS_TOKEN", "")
    if not token:
        raise Http404
    given = request.headers.get("Authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return HttpResponseForbidden("A valid bearer token is required.\n", content_type="text/plain")
    return HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)
