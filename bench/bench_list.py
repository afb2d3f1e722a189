"""API list: `GET /api/v1/deployments/` against bare Django views returning the same page of the same rows as
JSON with no framework: bench_api's (scoped by deployments_for_user: a join and DISTINCT) and one scoped like the
API now (a subquery on memberships), at 50 and 200 a page, on realistic rows: revisions with their completed
spec and rendered manifests, a member of two teams (1,000 deployments in one, 50 in the other).

Interleaved: each round requests every page size from both views, in alternating order, so both see the
same machine; the spread is over the rounds' API/bare ratios. Session auth and the Django test client, as
bench_api. Throughput ratio = bare p50 / API p50 (the goal: at least 0.9).
"""

import os
import time

from django.http import JsonResponse
from django.urls import include, path

DEPLOYMENTS = int(os.environ.get("BENCH_LIST_DEPLOYMENTS", "1000"))
ROUNDS = int(os.environ.get("BENCH_LIST_ROUNDS", "60"))
PAGE_SIZES = (50, 200)


def bare_subquery(request):
    """bench_api.bare_deployments with the API's scope (selectors_list): the same rows from the same query."""
    from deployments.selectors_list import LIST_COLUMNS, deployments_listed
    from deployments.state import FINAL_STATUSES
    from specs.vocabulary import Status

    if not request.user.is_authenticated:
        return JsonResponse({"errors": [{"code": "not_authenticated"}]}, status=401)
    size = min(int(request.GET.get("page_size", 50)), 200)
    rows = deployments_listed(request.user).order_by("team__slug", "name", "pk").values(*LIST_COLUMNS)
    results = [{
        "id": r["id"], "name": r["name"], "team": r["team__slug"], "workload": r["workload"], "target": r["target"],
        "status": {"phase": r["status"], "message": r["status_message"], "ready_pods": r["ready_pods"],
                   "total_pods": r["total_pods"], "scaled_to_zero": r["status"] == Status.SCALED_TO_ZERO,
                   "url": r["url"] or None, "last_synced_at": r["last_synced_at"],
                   "final": r["status"] in FINAL_STATUSES},
        "revision": r["current_revision__number"], "applied_revision": r["applied_revision"],
        "gpu_class": r["gpu_class"], "region": r["region"], "gpus_per_replica": r["gpus_per_replica"],
        "approval_reason": r["approval_reason"], "created_at": r["created_at"], "updated_at": r["updated_at"],
    } for r in rows[:size]]
    return JsonResponse({"count": rows.count(), "results": results})


def __getattr__(name):
    # The urlconf for run(): built on first use, since portal.urls needs Django set up (the runner imports first).
    if name == "urlpatterns":
        from .bench_api import bare_deployments

        return [path("bench/bare/deployments/", bare_deployments), path("bench/bare/listed/", bare_subquery),
                path("", include("portal.urls"))]
    raise AttributeError(name)


def _data_ensure(n=DEPLOYMENTS):
    from django.contrib.auth import get_user_model

    from deployments.models import Deployment
    from teams.models import Membership, Role, Team

    from .realistic import team_fill

    user, _ = get_user_model().objects.get_or_create(username="list-bench-member")
    for slug, size in (("listbench", n), ("listbench-other", 50)):
        team, _ = Team.objects.update_or_create(slug=slug, defaults={"name": slug, "monthly_budget_usd": 10**9,
                                                                     "gpu_quota": 10**6})
        Membership.objects.get_or_create(user=user, team=team, defaults={"role": Role.DEPLOYER})
        if Deployment.objects.filter(team=team).count() != size:
            team_fill(team, size, prefix=slug)
    return user


def _request(client, url):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    started = time.perf_counter()
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code == 200, (url, response.status_code, response.content[:300])
    body = response.json()
    return elapsed, len(captured), len(response.content), (body["count"], len(body["results"]))


VIEWS = {
    "api": ("API (DRF)", "/api/v1/deployments/?page_size={}"),
    "bare": ("bare Django, bench_api's (join + DISTINCT)", "/bench/bare/deployments/?page_size={}"),
    "bare_subquery": ("bare Django, the API's query", "/bench/bare/listed/?page_size={}"),
}


def run(*, user, rounds=ROUNDS, page_sizes=PAGE_SIZES):
    """{page size: {view: {"times", "queries", "bytes"}, "ratios": {bare view: [API/bare per round]}}}; ms."""
    from django.test import Client, override_settings

    client = Client()
    client.force_login(user)
    views = list(VIEWS)
    samples = {size: {view: [] for view in views} for size in page_sizes}
    facts = {}
    with override_settings(ROOT_URLCONF=__name__):
        for size in page_sizes:  # warm-up: connection, templates, caches
            for view in views:
                _request(client, VIEWS[view][1].format(size))
        for r in range(rounds):
            order = views[r % len(views):] + views[:r % len(views)]  # each view first, middle and last in turn
            for size in page_sizes:
                for view in order:
                    elapsed, queries, size_bytes, rows = _request(client, VIEWS[view][1].format(size))
                    samples[size][view].append(elapsed)
                    facts[size, view] = (queries, size_bytes, rows)
    out = {}
    for size in page_sizes:
        assert len({facts[size, view][2] for view in views}) == 1, "every view must answer the same rows"
        out[size] = {view: {"times": samples[size][view], "queries": facts[size, view][0],
                            "bytes": facts[size, view][1]} for view in views}
        out[size]["ratios"] = {bare: [a / b for a, b in zip(samples[size]["api"], samples[size][bare])]
                               for bare in views if bare != "api"}
    return out


def main():
    from .support import django_setup, machine, p50, percentile

    django_setup()
    results = run(user=_data_ensure())
    print(f"\nAPI list vs bare views: {DEPLOYMENTS} + 50 deployments in the member's two teams, realistic revisions, "
          f"{ROUNDS} interleaved rounds; {machine()}")
    print("| page size | view | p50 ms | p95 ms | SQL | KiB | API throughput / this view's (its p50 / API p50) "
          "| API/this per round: p25-p75 (min-max) |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for size, r in results.items():
        api = p50(r["api"]["times"])
        for view, (label, _) in VIEWS.items():
            t = r[view]["times"]
            ratios = r["ratios"].get(view)
            versus = (f"{p50(t) / api:.2f} | {percentile(ratios, 0.25):.2f}-{percentile(ratios, 0.75):.2f} "
                      f"({min(ratios):.2f}-{max(ratios):.2f})") if ratios else " | "
            print(f"| {size} | {label} | {p50(t):.1f} | {percentile(t, 0.95):.1f} | {r[view]['queries']} | "
                  f"{r[view]['bytes'] // 1024} | {versus} |", flush=True)


if __name__ == "__main__":
    main()
