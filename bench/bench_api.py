"""API list at the dashboard's scale: `GET /api/v1/deployments/` (DRF: auth, scoping, filters, pagination,
serializers) against a bare Django view returning the same page of the same rows as JSON, on bench_dashboard's
team of 10,000 deployments (realistic revisions, a month of spend). Interleaved: each round requests both
views at each page size, the order alternating; p50/p95 and the per-round ratios' spread. The goal's figures
(at 50 and 200 a page, a member of two teams) are bench_list's; `bare_deployments` here is its baseline too.
"""

import os
import time

from django.http import JsonResponse
from django.urls import include, path

RUNS = int(os.environ.get("BENCH_RUNS", "30"))


def rows_json(rows):
    """Rows of .values() as the API's serializer shapes them, with no framework (bench_list's bare views too)."""
    from deployments.state import FINAL_STATUSES
    from specs.vocabulary import Status

    return [{
        "id": r["id"], "name": r["name"], "team": r["team__slug"], "workload": r["workload"], "target": r["target"],
        "status": {"phase": r["status"], "message": r["status_message"], "ready_pods": r["ready_pods"],
                   "total_pods": r["total_pods"], "scaled_to_zero": r["status"] == Status.SCALED_TO_ZERO,
                   "url": r["url"] or None, "last_synced_at": r["last_synced_at"],
                   "final": r["status"] in FINAL_STATUSES},
        "revision": r["current_revision__number"], "applied_revision": r["applied_revision"],
        "gpu_class": r["gpu_class"], "region": r["region"], "gpus_per_replica": r["gpus_per_replica"],
        "approval_reason": r["approval_reason"], "created_at": r["created_at"], "updated_at": r["updated_at"],
    } for r in rows]


def bare_deployments(request):
    """The same rows and order as the API's first page, built from .values() with no framework."""
    from deployments.models import Deployment

    if not request.user.is_authenticated:
        return JsonResponse({"errors": [{"code": "not_authenticated"}]}, status=401)
    size = min(int(request.GET.get("page_size", 50)), 200)
    # Scoped as deployments_for_user was before issue 18 (a join on memberships, DISTINCT): the old baseline.
    rows = (Deployment.objects.filter(team__memberships__user=request.user).distinct()
            .order_by("team__slug", "name", "pk"))
    page = rows.values("id", "name", "team__slug", "workload", "target", "status", "status_message", "ready_pods",
                       "total_pods", "url", "last_synced_at", "current_revision__number", "applied_revision",
                       "gpu_class", "region", "gpus_per_replica", "approval_reason", "created_at",
                       "updated_at")[:size]
    return JsonResponse({"count": rows.count(), "results": rows_json(page)})


def __getattr__(name):
    # The urlconf for run(): built on first use, since portal.urls needs Django set up (the runner imports first).
    if name == "urlpatterns":
        return [path("bench/bare/deployments/", bare_deployments), path("", include("portal.urls"))]
    raise AttributeError(name)


def page_request(client, url):
    """One GET of a list page: (ms, SQL queries, bytes, (count, rows on the page))."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    started = time.perf_counter()
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code == 200, (url, response.status_code, response.content[:300])
    body = response.json()
    return elapsed, len(captured), len(response.content), (body["count"], len(body["results"]))


VIEWS = {"API list (DRF)": "/api/v1/deployments/?page_size={}",
         "bare Django JsonResponse": "/bench/bare/deployments/?page_size={}"}


def run(*, user, runs=RUNS, page_sizes=(50, 200)):
    """{page size: {view: {"times", "queries", "bytes", "rows"}}, with "ratios" (API/bare per round)}."""
    from django.test import Client, override_settings

    client = Client()
    client.force_login(user)
    out = {size: {view: {"times": []} for view in VIEWS} for size in page_sizes}
    with override_settings(ROOT_URLCONF=__name__):
        for size in page_sizes:
            for view, url in VIEWS.items():  # warm-up, and the facts
                _, queries, size_bytes, rows = page_request(client, url.format(size))
                out[size][view].update(queries=queries, bytes=size_bytes, rows=rows)
            assert len({out[size][view]["rows"] for view in VIEWS}) == 1, "both views must answer the same rows"
        for r in range(runs):
            for size in page_sizes:
                views = list(VIEWS) if r % 2 == 0 else list(VIEWS)[::-1]
                for view in views:
                    out[size][view]["times"].append(page_request(client, VIEWS[view].format(size))[0])
    for size in page_sizes:
        api, bare = (out[size][view]["times"] for view in VIEWS)
        out[size]["ratios"] = [a / b for a, b in zip(api, bare)]
    return out


def main():
    from .bench_dashboard import DEPLOYMENTS, data_ensure
    from .support import django_setup, month_end_clock, p50, percentile, results_append

    django_setup()
    with month_end_clock():
        from django.utils import timezone

        results = run(user=data_ensure(timezone.now())["user"])
    rows = []
    for size, r in results.items():
        ratios = r["ratios"]
        for view in VIEWS:
            t = r[view]["times"]
            ratio = (f"{p50(t) / p50(r['API list (DRF)']['times']):.2f} ({percentile(ratios, 0.25):.2f}-"
                     f"{percentile(ratios, 0.75):.2f})") if view != "API list (DRF)" else ""
            rows.append([view, size, f"{p50(t):.1f}", f"{percentile(t, 0.95):.1f}", r[view]["queries"],
                         r[view]["bytes"] // 1024, ratio])
            print(f"{view} page {size}: p50 {p50(t):.1f} ms, p95 {percentile(t, 0.95):.1f} ms, "
                  f"{r[view]['queries']} SQL", flush=True)
    results_append(
        "bench_api",
        f"`GET /api/v1/deployments/` vs a bare Django view of the same page of rows (same order; scoped by "
        f"a join with DISTINCT, as deployments_for_user was before issue 18), a "
        f"team of {DEPLOYMENTS:,} deployments with realistic revisions and a month of spend; session auth, Django "
        f"test client, {RUNS} interleaved rounds.",
        ["view", "page size", "p50 ms", "p95 ms", "SQL queries", "response KiB",
         "API throughput / bare (bare p50 / API p50), p25-p75 of API/bare per round"],
        rows,
    )


if __name__ == "__main__":
    main()
