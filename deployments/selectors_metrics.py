"""Request metrics of one deployment, read from Prometheus: what its pods' queue-proxy and the DCGM
exporter report (metric names and labels: sandbox/sim_metrics.py cites their sources).

The current values use a rate() window of four scrapes (PROMETHEUS_SCRAPE_SECONDS, the usual rule
of thumb): rate() divides by the whole window, so a window longer than the data under-reads.

The verdict on latency: p50 is the model's own service time; what the target utilisation decides
is how much waiting is added on top, which shows as p95 / p50. Gantry reads the latency tolerance
as a bound on that ratio (TAIL_RATIO_LIMIT); the advice says which knob moves it.
"""

import re
import time
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.utils import timezone

from audit.models import Event
from specs.vocabulary import Status

from .prometheus import PrometheusError, prometheus_enabled, query_range, query_value

# range -> (length, step), seconds; rate() windows are a step, and at least four scrapes
RANGES = {"1h": (3600, 30), "1d": (86400, 600), "1w": (7 * 86400, 3600)}
DEFAULT_RANGE = "1h"
TAIL_RATIO_LIMIT = {"strict": 2.0, "moderate": 3.0, "relaxed": 5.0}
DURATION = "kn_serving_invocation_duration_seconds"
DISABLED_MESSAGE = ("Request metrics are off: set PROMETHEUS_URL to a Prometheus that scrapes the pods' "
                    "queue-proxy and the DCGM exporter (`make run` starts one on http://127.0.0.1:9090).")


def _queries(namespace, name, window):
    name = re.escape(name)
    pods = f'namespace="{namespace}",kn_service_name=~"{name}(-predictor)?"'
    gpus = f'namespace="{namespace}",pod=~"{name}(-predictor)?-[0-9]+-deployment-.*"'
    requests = f"sum(rate({DURATION}_count{{{pods}}}[{window}s]))"

    def quantile(q):
        return f"histogram_quantile({q}, sum by (le) (rate({DURATION}_bucket{{{pods}}}[{window}s])))"

    return {
        "requests_per_second": requests,
        "error_ratio": f'sum(rate({DURATION}_count{{{pods},http_response_status_code=~"5.."}}[{window}s])) '
                       f"/ {requests}",
        "latency_p50_seconds": quantile(0.5),
        "latency_p95_seconds": quantile(0.95),
        "latency_p99_seconds": quantile(0.99),
        "concurrency_per_replica": f"avg(kn_serving_queue_depth{{{pods}}})",
        "gpu_utilization_percent": f"avg(DCGM_FI_DEV_GPU_UTIL{{{gpus}}})",
        "gpu_memory_used_mib": f"avg(DCGM_FI_DEV_FB_USED{{{gpus}}})",
    }


def _scaling(deployment):
    revision = deployment.current_revision
    scaling = ((revision.spec if revision else None) or {}).get("scaling") or {}
    return scaling.get("latency_tolerance") or "moderate", scaling.get("target_utilization_percent")


def latency_verdict(deployment, current):
    """Whether p95 meets the tolerance, in words, and what to change when it does not."""
    tolerance, target = _scaling(deployment)
    limit = TAIL_RATIO_LIMIT.get(tolerance, TAIL_RATIO_LIMIT["moderate"])
    p50, p95 = current.get("latency_p50_seconds"), current.get("latency_p95_seconds")
    verdict = {"tolerance": tolerance, "tail_ratio_limit": limit, "target_utilization_percent": target,
               "meets": None, "tail_ratio": None}
    if not p50 or p95 is None:
        verdict["summary"] = "No requests just now: nothing to judge the latency by."
        return verdict
    ratio = p95 / p50
    verdict.update(tail_ratio=round(ratio, 2), meets=ratio <= limit)
    said = f"p95 {p95 * 1000:.0f} ms is {ratio:.1f}× p50 ({p50 * 1000:.0f} ms)"
    if ratio <= limit:
        verdict["summary"] = f"Meets the {tolerance} latency tolerance: {said}, within {limit:g}×."
        return verdict
    lower = f"from {target} % to about {max(50, target - 15)} %" if target else "(e.g. 70 %)"
    verdict["summary"] = (f"Does not meet the {tolerance} latency tolerance: {said}, over {limit:g}×. Requests "
                          f"wait for a busy replica: lower the target utilisation {lower} so more replicas "
                          "share the load, or choose a bigger GPU class if p50 itself is too slow.")
    return verdict


def cold_starts(deployment, *, seconds, now=None):
    """How often the deployment came back from zero in the last `seconds`: Knative v1.23's queue-proxy exports
    no cold-start metric, so Gantry counts its own status history (scaled to zero -> running)."""
    since = (timezone.now() if now is None else datetime.fromtimestamp(now, tz=UTC)) - timedelta(seconds=seconds)
    return Event.objects.filter(deployment=deployment, kind=Event.Kind.STATUS, from_status=Status.SCALED_TO_ZERO,
                                to_status=Status.RUNNING, created_at__gte=since).count()


def deployment_request_metrics(deployment, *, range_key=DEFAULT_RANGE, now=None):
    """Series on one time axis, the current values and the latency verdict of one deployment."""
    length, step = RANGES[range_key]
    recent = max(1, round(4 * settings.PROMETHEUS_SCRAPE_SECONDS))
    window = max(step, recent)
    result = {"enabled": prometheus_enabled(), "range": range_key, "step_seconds": step, "message": "",
              "timestamps": [], "series": {}, "current": {}, "latency": None,
              "cold_starts": cold_starts(deployment, seconds=length, now=now)}
    if not result["enabled"]:
        result["message"] = DISABLED_MESSAGE
        return result
    now = time.time() if now is None else now
    end = int(now) - int(now) % step
    start = end - length
    axis = [start + i * step for i in range(length // step + 1)]
    queries = _queries(deployment.namespace, deployment.name, window)
    try:
        for key, promql in queries.items():
            points = dict(query_range(promql, start=start, end=end, step=step))
            result["series"][key] = [points.get(t) for t in axis]
        recent_queries = _queries(deployment.namespace, deployment.name, recent)
        current = {key: query_value(promql, at=now) for key, promql in recent_queries.items()}
    except PrometheusError as exc:
        result.update(series={}, message=str(exc))
        return result
    result["timestamps"] = axis
    result["current"] = current
    result["latency"] = latency_verdict(deployment, current)
    result["prometheus_url"] = settings.PROMETHEUS_URL
    return result
