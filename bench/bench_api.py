"""API list: `GET /api/v1/deployments/` (DRF: auth, scoping, filters, pagination, serializers) against a
bare Django view returning the same page of the same rows as JSON, at 1,000 deployments with 30 days of
spend and samples (the data of bench_dashboard). p50/p95 and SQL queries, measured in the same run.
"""

import os
import time

from django.http import JsonResponse
from django.urls import include, path

RUNS = int(os.environ.get("BENCH_RUNS", "30"))


def bare_deployments(request):
    """The same rows, scope and order as the API's first page, built from .values() with no framework."""
    from deployments.selectors import deployments_for_user
    from deployments.state import FINAL_STATUSES
    from specs.vocabulary import Status

    if not request.user.is_authenticated:
        return JsonResponse({"errors": [{"code": "not_authenticated"}]}, status=401)
    size = min(int(request.GET.get("page_size", 50)), 200)
    rows = deployments_for_user(request.user).order_by("team__slug", "name", "pk")
    page = rows.values("id", "name", "team__slug", "workload", "target", "status", "status_message", "ready_pods",
                       "total_pods", "url", "last_synced_at", "current_revision__number", "applied_revision",
                       "gpu_class", "region", "gpus_per_replica", "approval_reason", "created_at",
                       "updated_at")[:size]
    results = [{
        "id": r["id"], "name": r["name"], "team": r["team__slug"], "workload": r["workload"], "target": r["target"],
        "status": {"phase": r["status"], "message": r["status_message"], "ready_pods": r["ready_pods"],
                   "total_pods": r["total_pods"], "scaled_to_zero": r["status"] == Status.SCALED_TO_ZERO,
                   "url": r["url"] or None, "last_synced_at": r["last_synced_at"],
                   "final": r["status"] in FINAL_STATUSES},
        "revision": r["current_revision__number"], "applied_revision": r["applied_revision"],
        "gpu_class": r["gpu_class"], "region": r["region"], "gpus_per_replica": r["gpus_per_replica"],
        "approval_reason": r["approval_reason"], "created_at": r["created_at"], "updated_at": r["updated_at"],
    } for r in page]
    return JsonResponse({"count": rows.count(), "results": results})


def __getattr__(name):
    # The urlconf for run(): built on first use, since portal.urls needs Django set up (the runner imports first).
    if name == "urlpatterns":
        return [path("bench/bare/deployments/", bare_deployments), path("", include("portal.urls"))]
    raise AttributeError(name)


def _measure(client, url, runs):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from .support import p50, percentile

    client.get(url)  # warm-up
    times, queries, size, count = [], 0, 0, None
    for _ in range(runs):
        started = time.perf_counter()
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code, response.content[:300])
        queries, size = len(captured), len(response.content)
        body = response.json()
        count = (body["count"], len(body["results"]))
    return {"p50": p50(times), "p95": percentile(times, 0.95), "queries": queries, "bytes": size, "rows": count}


def run(*, user, runs=RUNS, page_sizes=(50, 200)):
    """[{"label", "page_size", "p50", "p95", "queries", "bytes", "rows"}], API and bare per page size."""
    from django.test import Client, override_settings

    client = Client()
    client.force_login(user)
    results = []
    with override_settings(ROOT_URLCONF=__name__):
        for size in page_sizes:
            api = _measure(client, f"/api/v1/deployments/?page_size={size}", runs)
            bare = _measure(client, f"/bench/bare/deployments/?page_size={size}", runs)
            assert api["rows"] == bare["rows"], (api["rows"], bare["rows"])  # the same rows
            results.append({"label": "API list (DRF)", "page_size": size, **api})
            results.append({"label": "bare Django JsonResponse", "page_size": size, **bare,
                            "ratio": api["p50"] / bare["p50"]})
    return results


def main():
    from .bench_dashboard import DAYS, DEPLOYMENTS, _data_ensure
    from .support import django_setup, results_append

    django_setup()
    user = _data_ensure()
    results = run(user=user)
    rows = []
    for r in results:
        print(f"{r['label']} page {r['page_size']}: p50 {r['p50']:.1f} ms, p95 {r['p95']:.1f} ms, "
              f"{r['queries']} SQL", flush=True)
        ratio = f"{r['ratio']:.2f}" if "ratio" in r else ""
        rows.append([r["label"], r["page_size"], f"{r['p50']:.1f}", f"{r['p95']:.1f}", r["queries"],
                     r["bytes"] // 1024, ratio])
    results_append(
        "bench_api",
        f"`GET /api/v1/deployments/` vs a bare Django view of the same page of rows (same scope and order), "
        f"{DEPLOYMENTS} deployments with {DAYS} days of spend; session auth, Django test client, {RUNS} requests "
        "per row.",
        ["view", "page size", "p50 ms", "p95 ms", "SQL queries", "response KiB", "API p50 / bare p50"],
        rows,
    )


if __name__ == "__main__":
    main()
