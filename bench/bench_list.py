"""API list: `GET /api/v1/deployments/` against bare Django views returning the same page of the same rows as
JSON with no framework: bench_api's (scoped by a join and DISTINCT, as deployments_for_user was) and one scoped like the
API now (a subquery on memberships), at 50 and 200 a page, on realistic rows: revisions with their completed
spec and rendered manifests, a member of two teams (1,000 deployments in one, 50 in the other).

Interleaved: each round requests every page size from both views, in alternating order, so both see the
same machine; the spread is over the rounds' API/bare ratios. Session auth and the Django test client, as
bench_api. Throughput ratio = bare p50 / API p50 (the goal: at least 0.9).
"""

import os

from django.http import JsonResponse
from django.urls import include, path

from .bench_api import bare_deployments, page_request, rows_json

DEPLOYMENTS = int(os.environ.get("BENCH_LIST_DEPLOYMENTS", "1000"))
ROUNDS = int(os.environ.get("BENCH_LIST_ROUNDS", "60"))
PAGE_SIZES = (50, 200)
GOAL_RATIO = 0.9  # issue 18: the API list at least 0.9x a bare Django view's throughput
# The goal's bare view: the API's own query with no framework, so the ratio is the framework's cost alone
# (bench_api's view scopes with a slower join + DISTINCT, which would flatter the API).
GOAL_VIEW = "bare_subquery"


def bare_subquery(request):
    """bench_api.bare_deployments with the API's scope (selectors_list): the same rows from the same query."""
    from deployments.selectors_list import LIST_COLUMNS, deployments_listed

    if not request.user.is_authenticated:
        return JsonResponse({"errors": [{"code": "not_authenticated"}]}, status=401)
    size = min(int(request.GET.get("page_size", 50)), 200)
    rows = deployments_listed(request.user).order_by("team__slug", "name", "pk").values(*LIST_COLUMNS)
    return JsonResponse({"count": rows.count(), "results": rows_json(rows[:size])})


def __getattr__(name):
    # The urlconf for run(): built on first use, since portal.urls needs Django set up (the runner imports first).
    if name == "urlpatterns":
        return [path("bench/bare/deployments/", bare_deployments), path("bench/bare/listed/", bare_subquery),
                path("", include("portal.urls"))]
    raise AttributeError(name)


def data_ensure(n=DEPLOYMENTS):
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


VIEWS = {
    "api": ("API (DRF)", "/api/v1/deployments/?page_size={}"),
    "bare": ("bare Django, bench_api's (join + DISTINCT)", "/bench/bare/deployments/?page_size={}"),
    "bare_subquery": ("bare Django, the API's query", "/bench/bare/listed/?page_size={}"),
}


def run(*, user, rounds=ROUNDS, page_sizes=PAGE_SIZES):
    """{page size: {view: {"times", "queries", "bytes", "rows": (count, on the page)}, "ratios": {bare view:
    [API/bare per round]}}}; ms."""
    from django.test import Client, override_settings

    client = Client()
    client.force_login(user)
    views = list(VIEWS)
    samples = {size: {view: [] for view in views} for size in page_sizes}
    facts = {}
    with override_settings(ROOT_URLCONF=__name__):
        for size in page_sizes:  # warm-up: connection, templates, caches
            for view in views:
                page_request(client, VIEWS[view][1].format(size))
        for r in range(rounds):
            order = views[r % len(views):] + views[:r % len(views)]  # each view first, middle and last in turn
            for size in page_sizes:
                for view in order:
                    elapsed, queries, size_bytes, rows = page_request(client, VIEWS[view][1].format(size))
                    samples[size][view].append(elapsed)
                    facts[size, view] = (queries, size_bytes, rows)
    out = {}
    for size in page_sizes:
        assert len({facts[size, view][2] for view in views}) == 1, "every view must answer the same rows"
        out[size] = {view: {"times": samples[size][view], "queries": facts[size, view][0],
                            "bytes": facts[size, view][1], "rows": facts[size, view][2]} for view in views}
        out[size]["ratios"] = {bare: [a / b for a, b in zip(samples[size]["api"], samples[size][bare])]
                               for bare in views if bare != "api"}
    return out


def main():
    from .support import django_setup, p50, percentile, results_append

    django_setup()
    results = run(user=data_ensure(DEPLOYMENTS), rounds=ROUNDS)
    rows, goals = [], {}
    for size, r in results.items():
        api = p50(r["api"]["times"])
        for view, (label, _) in VIEWS.items():
            t, ratios = r[view]["times"], r["ratios"].get(view)
            versus = [f"{p50(t) / api:.2f}", f"{percentile(ratios, 0.25):.2f}-{percentile(ratios, 0.75):.2f} "
                      f"({min(ratios):.2f}-{max(ratios):.2f})"] if ratios else ["", ""]
            rows.append([size, label, f"{p50(t):.1f}", f"{percentile(t, 0.95):.1f}", r[view]["queries"],
                         r[view]["bytes"] // 1024, *versus])
            print(f"list page {size}, {label}: p50 {p50(t):.1f} ms, p95 {percentile(t, 0.95):.1f} ms, "
                  f"{r[view]['queries']} SQL", flush=True)
        bare = p50(r[GOAL_VIEW]["times"])
        per_round = [1 / x for x in r["ratios"][GOAL_VIEW]]  # the API's throughput / the bare view's, per round
        goals[f"list-{size}"] = (
            f"API p50 {api:.1f} ms, bare view with the API's query {bare:.1f} ms (bench_api's bare view, join + "
            f"DISTINCT: {p50(r['bare']['times']):.1f} ms)",
            f"{bare / api:.2f}× (rounds p25-p75 {percentile(per_round, 0.25):.2f}-{percentile(per_round, 0.75):.2f})",
            bare / api >= GOAL_RATIO)
    results_append(
        "bench_list",
        f"`GET /api/v1/deployments/` vs two bare Django views of the same page of rows (same order): one scoped as "
        f"the API is (a subquery on memberships), bench_api's (a join with DISTINCT, as deployments_for_user was); "
        f"a member "
        f"of two teams ({DEPLOYMENTS:,} and 50 deployments, realistic revisions); session auth, Django test client, "
        f"{ROUNDS} interleaved rounds. Goal ratio: the API's throughput / the bare view's with the same query.",
        ["page size", "view", "p50 ms", "p95 ms", "SQL queries", "response KiB",
         "API throughput / this view's (its p50 / API p50)", "API/this per round: p25-p75 (min-max)"],
        rows, goals=goals)


if __name__ == "__main__":
    main()
