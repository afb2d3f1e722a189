"""Each benchmark at a tiny size, in the test database, so `make bench` cannot rot unnoticed (the real runs:
`python -m bench`). Each test asserts what its benchmark is there to show, not the goal's figure."""

import pytest

from bench import bench_api, bench_create, bench_list, bench_load, bench_push, bench_sync, bench_watch, support
from deployments.models import Deployment
from tests.factories import DeploymentFactory

pytestmark = pytest.mark.timeout(45)


@pytest.fixture(autouse=True)
def _results_elsewhere(tmp_path, monkeypatch):
    """A main() run here records in tmp_path, never in bench/RESULTS.md or bench/HISTORY.md, and stays on the
    test database (django_setup would switch to the bench database)."""
    monkeypatch.setattr(support, "RESULTS", tmp_path / "RESULTS.md")
    monkeypatch.setattr(support, "HISTORY", tmp_path / "HISTORY.md")
    monkeypatch.setattr(support, "SCALE", 1.0)  # RESULTS.md is written at scale 1 only
    monkeypatch.setattr(support, "django_setup", lambda: None)


def _goal_rows(keys):
    """{goal key: its row's cells} of the RESULTS.md a main() wrote here."""
    current = support._results_read()
    return {key: current[f"{goal} (#{issue})"] for key, issue, goal in support.GOALS if key in keys}


def _assert_measured(keys):
    rows = _goal_rows(keys)
    assert {key: row[1] != support.NOT_RUN and row[3] in ("yes", "**no**") for key, row in rows.items()} == {
        key: True for key in keys}, rows


@pytest.mark.django_db
def test_bench_sync_api_calls_follow_namespaces_not_deployments(settings):
    settings.KUBECONFIG = ""  # run() points it at its sandbox processes; the fixture puts it back
    small, large = bench_sync.run([6, 12], cycles=2, namespaces=2, pods=2)
    assert (small["n"], large["n"]) == (6, 12)
    assert len(small["times"]) == len(large["times"]) == 2
    assert small["api_calls"] == large["api_calls"] > 0
    assert small["sql_queries"] == large["sql_queries"] > 0


@pytest.mark.django_db
def test_bench_api_both_views_answer_the_same_rows(team, owner):
    for i in range(4):
        DeploymentFactory(team=team, name=f"svc-{i}")
    results = bench_api.run(user=owner, runs=2, page_sizes=(3,))
    assert {view: results[3][view]["rows"] for view in bench_api.VIEWS} == {view: (4, 3) for view in bench_api.VIEWS}
    assert len(results[3]["ratios"]) == 2


@pytest.mark.django_db
def test_bench_list_every_view_answers_the_same_rows():
    user = bench_list.data_ensure(5)  # and the member's other team of 50
    results = bench_list.run(user=user, rounds=2)
    assert {(size, view): results[size][view]["rows"] for size in (50, 200) for view in bench_list.VIEWS} == {
        **{(50, view): (55, 50) for view in bench_list.VIEWS}, **{(200, view): (55, 55) for view in bench_list.VIEWS}}
    assert all(len(ratios) == 2 for size in (50, 200) for ratios in results[size]["ratios"].values())


@pytest.mark.django_db(transaction=True)  # as the benchmark runs: each create commits and runs its on-commit work
def test_bench_create_statements_do_not_grow_with_the_team():
    results = bench_create.run(sizes=(2, 20), rounds=3)
    assert results[2]["statements"] == results[20]["statements"] > 0
    assert Deployment.objects.filter(team__slug="createbench-20").count() == 20  # the creates were removed again


@pytest.mark.django_db(transaction=True)
def test_bench_create_and_list_fill_their_goal_rows(monkeypatch):
    monkeypatch.setattr(bench_create, "SIZES", (2, 5))
    monkeypatch.setattr(bench_create, "ROUNDS", 2)
    monkeypatch.setattr(bench_list, "DEPLOYMENTS", 5)
    monkeypatch.setattr(bench_list, "ROUNDS", 2)
    bench_create.main()
    bench_list.main()
    _assert_measured({"create-queries", "create-flat", "list-50", "list-200"})
    history = support.HISTORY.read_text()
    assert "## bench_create" in history and "## bench_list" in history


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_bench_push_runs_both_paths(tmp_path):
    result = bench_push.run(2, rounds=2, workdir=tmp_path)  # round 2 runs the direct path first
    assert result["n"] == 2 and result["objects"] >= 2
    assert len(result["pipeline"]) == len(result["direct"]) == len(result["ratios"]) == 2
    assert all(seconds > 0 for seconds in result["pipeline"] + result["direct"] + result["create"])


@pytest.mark.django_db(transaction=True)
def test_bench_load_against_gunicorn(team, owner, monkeypatch):
    monkeypatch.setenv("WEB_CONCURRENCY", "1")  # read by portal/gunicorn_conf.py in the server it starts
    DeploymentFactory(team=team, name="svc-0")
    # As main() does: the server runs at month end, so the session must be made there (or it has expired).
    # before="": the current code only (the before side exports a git revision and migrates a database copy).
    with support.month_end_clock():
        results = bench_load.run({"team": team, "user": owner}, before="", rounds=1, users=2, seconds=1)
    assert {endpoint: r["errors"] for endpoint, r in results["after"].items()} == dict.fromkeys(bench_load.ENDPOINTS, 0)
    assert all(r["ok"] > 0 for r in results["after"].values())
    assert list(Deployment.objects.values_list("name", flat=True)) == ["svc-0"]  # the creates were removed


@pytest.mark.timeout(60)
@pytest.mark.django_db(transaction=True)
def test_bench_watch_measures_every_goal(settings, monkeypatch, tmp_path):
    settings.KUBECONFIG = ""  # main() points it at its sandbox process; the fixture puts it back
    settings.WATCHER_HEARTBEAT_FILE = str(tmp_path / "watcher-alive")
    for name, value in {"DEPLOYMENTS": 10, "PODS": 2, "ROUNDS": 1, "FLIPS_WATCH": 2, "FLIPS_LIST": 1,
                        "CPU_SECONDS": 0.5, "SYNC_INTERVAL": 0.5}.items():
        monkeypatch.setattr(bench_watch, name, value)
    bench_watch.main()
    _assert_measured({"watch-latency", "watch-cpu", "watch-resync", "watch-other-503", "watch-other-gone"})
