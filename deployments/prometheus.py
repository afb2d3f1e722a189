"""A small client of Prometheus's HTTP API (/api/v1/query, /api/v1/query_range), bounded in time.

Prometheus is not the cluster, so this is not in clusters/; it only reads. Every failure is one
`PrometheusError` with a message a page can show.
"""

import math

import requests
from django.conf import settings

TIMEOUT_SECONDS = (2.0, 5.0)  # connect, read


class PrometheusError(Exception):
    pass


def prometheus_enabled():
    return bool(settings.PROMETHEUS_URL)


def _get(path, params):
    try:
        answer = requests.get(f"{settings.PROMETHEUS_URL}{path}", params=params, timeout=TIMEOUT_SECONDS)
    except requests.RequestException as exc:
        raise PrometheusError(f"Prometheus at {settings.PROMETHEUS_URL} did not answer ({exc.__class__.__name__}).") from exc
    try:
        body = answer.json()
    except ValueError:
        raise PrometheusError(f"Prometheus answered {answer.status_code} without JSON.") from None
    if body.get("status") != "success":
        raise PrometheusError(f"Prometheus: {body.get('errorType', answer.status_code)}: {body.get('error', '')}")
    return body["data"]


def _number(text):
    value = float(text)
    return None if math.isnan(value) or math.isinf(value) else value


def query_value(promql, *, at=None):
    """The first sample of an instant query as a float, None when there is no series (or NaN)."""
    params = {"query": promql}
    if at is not None:
        params["time"] = f"{at:.3f}"
    result = _get("/api/v1/query", params)["result"]
    if not result:
        return None
    return _number(result[0]["value"][1])


def query_range(promql, *, start, end, step):
    """[(unix seconds, float or None)] of the first series of a range query; [] without series."""
    params = {"query": promql, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": f"{step}s"}
    result = _get("/api/v1/query_range", params)["result"]
    if not result:
        return []
    return [(float(t), _number(v)) for t, v in result[0]["values"]]
