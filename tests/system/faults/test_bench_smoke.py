"""Each benchmark's run() with a tiny N, so `make bench` cannot rot unnoticed (the real runs: `python -m bench`)."""

import pytest

from bench import bench_api, bench_load, bench_push, bench_sync
from tests.factories import DeploymentFactory

pytestmark = pytest.mark.timeout(45)


@pytest.mark.django_db
def test_bench_sync_counts_calls_and_queries(sandbox, sandbox_kubeconfig):
    small, large = bench_sync.run([6, 12], sandbox=sandbox, namespaces=2, cycles=1)
    assert (small["synced"], large["synced"]) == (6, 12)
    assert small["api_calls"] == large["api_calls"] == 6  # pods + services + revisions, per namespace
    assert small["sql_queries"] == large["sql_queries"]


@pytest.mark.django_db
def test_bench_api_compares_the_same_rows(team, owner):
    for i in range(4):
        DeploymentFactory(team=team, name=f"svc-{i}")
    results = bench_api.run(user=owner, runs=2, page_sizes=(3,))
    assert [r["rows"] for r in results] == [(4, 3), (4, 3)]
    assert results[1]["ratio"] > 0


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_bench_push_runs_both_paths(sandbox, sandbox_kubeconfig, tmp_path):
    result = bench_push.run(3, sandbox=sandbox, workdir=tmp_path)
    assert result["n"] == 3 and result["pipeline_s"] > 0 and result["direct_s"] > 0
    assert result["objects"] >= 3


@pytest.mark.django_db(transaction=True)
def test_bench_load_against_gunicorn(team, owner):
    DeploymentFactory(team=team, name="svc-0")
    results = bench_load.run(user=owner, users=2, seconds=1, workers=1)
    assert {name: r["errors"] for name, r in results.items()} == {"API list": 0, "dashboard": 0}
    assert all(r["requests"] > 0 for r in results.values())
