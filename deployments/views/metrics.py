"""The deployment page's Request metrics panel, read from Prometheus (htmx loads it after the page;
without JavaScript the link opens the same panel as a page of its own)."""

from datetime import UTC, datetime

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from ..selectors import deployment_get_for_user
from ..selectors_metrics import DEFAULT_RANGE, RANGES, deployment_request_metrics

RANGE_LABELS = {"1h": "Last hour", "1d": "Last day", "1w": "Last week"}


def _chart(metrics):
    """What static/gantry/charts.js draws: labels, and the series in display units."""
    fmt = "%H:%M" if metrics["range"] == "1h" else "%d %b %H:%M"
    series = metrics["series"]

    def scaled(key, factor):
        return [None if v is None else round(v * factor, 3) for v in series.get(key, [])]

    return {"labels": [datetime.fromtimestamp(t, UTC).strftime(fmt) for t in metrics["timestamps"]],
            "rps": scaled("requests_per_second", 1), "errors": scaled("error_ratio", 100),
            "p50": scaled("latency_p50_seconds", 1000), "p95": scaled("latency_p95_seconds", 1000),
            "p99": scaled("latency_p99_seconds", 1000), "concurrency": scaled("concurrency_per_replica", 1),
            "gpu_util": scaled("gpu_utilization_percent", 1), "gpu_mem": scaled("gpu_memory_used_mib", 1 / 1024)}


@login_required
def deployment_metrics_panel(request, pk):
    deployment = deployment_get_for_user(request.user, pk)
    range_key = request.GET.get("range") if request.GET.get("range") in RANGES else DEFAULT_RANGE
    metrics = deployment_request_metrics(deployment, range_key=range_key)
    errors = metrics["current"].get("error_ratio")
    context = {"d": deployment, "m": metrics, "now": metrics["current"], "ranges": RANGE_LABELS, "range": range_key,
               "error_percent": None if errors is None else errors * 100,
               "range_label": RANGE_LABELS[range_key], "metrics_chart": _chart(metrics) if metrics["series"] else None}
    template = "deployments/metrics.html"
    return render(request, f"{template}#panel" if request.htmx else template, context)
