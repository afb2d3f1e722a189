"""The watcher (issue 17): deployments follow the clusters through watches, over real HTTP to sandbox clusters.

The watcher's threads hold the watches; the test thread calls flush() and sweep() as the process's
loop does, so the database work runs inside the test's transaction.
"""

import pytest

from catalog.models import Region
from clusters.models import Cluster
from deployments.models import Deployment
from deployments.services.watching import Watcher
from specs.vocabulary import Status
from tests.cluster_helpers import deployment_pushed, wait_for

pytestmark = [pytest.mark.timeout(60), pytest.mark.django_db]


def simulate(sandbox, seconds=30, steps=2):
    for _ in range(steps):
        sandbox.simulator.tick()
        sandbox.simulator.advance(seconds)
    sandbox.simulator.tick()


@pytest.fixture
def watcher():
    made = []

    def start(**kwargs):
        w = Watcher(resync_seconds=kwargs.pop("resync_seconds", 600), sweep_seconds=600, **kwargs)
        w.clusters_refresh()
        made.append(w)
        return w

    yield start
    for w in made:
        w.stop()


def _flushed_until(w, predicate, message, timeout=10):
    def step():
        w.flush()
        return predicate()
    return wait_for(step, timeout=timeout, interval=0.05, message=message)


def _row(d):
    d.refresh_from_db()
    return d


def _running(sandbox, name):
    return sum(1 for p in sandbox.objects("pods", "tenant-nlp")
               if p["metadata"]["labels"].get("gantry.io/deployment") == name and p["status"].get("phase") == "Running")


def _chat_running(sandbox, deployer, watcher):
    """`chat` pushed (scale to zero after a minute idle), watched, running 2 pods, as the database shows."""
    d = deployment_pushed(deployer, name="chat",
                          scaling={"min_replicas": 0, "max_replicas": 4, "scale_to_zero_retention": "1m"})
    w = watcher()
    sandbox.simulator.set_traffic("tenant-nlp", "chat", "steady")
    simulate(sandbox)
    _flushed_until(w, lambda: _row(d).status == Status.RUNNING and d.ready_pods == 2, "chat running with 2 pods")
    return d, w


def _lists(sandbox):
    """GETs of collections that are not watches: what a list sync would cost."""
    return [r for r in sandbox.requests if r.method == "GET" and r.query.get("watch") not in ("1", "true")]


def test_a_pod_change_reaches_the_database_through_the_watch_without_listing(
        sandbox, sandbox_kubeconfig, deployer, watcher):
    d, w = _chat_running(sandbox, deployer, watcher)
    lists_before = len(_lists(sandbox))

    sandbox.simulator.set_traffic("tenant-nlp", "chat", "idle")
    simulate(sandbox, seconds=400)
    assert _running(sandbox, "chat") == 0

    # The revision's scale (0) and the pods' deletions come by different watches, in either order: a flush
    # between them shows "scaled to zero" with the terminating pods still counted; the next one, none.
    _flushed_until(w, lambda: (_row(d).status, d.ready_pods, d.gpus_in_use) == (Status.SCALED_TO_ZERO, 0, 0),
                   "scaled to zero, no pod counted")
    assert len(_lists(sandbox)) == lists_before, "the change arrived by watch, not by listing again"


def test_a_dropped_watch_resumes_from_its_resource_version_without_missing_a_change(
        sandbox, sandbox_kubeconfig, deployer, watcher):
    d, w = _chat_running(sandbox, deployer, watcher)
    lists_before = len(_lists(sandbox))

    sandbox.watches_drop()
    sandbox.simulator.set_traffic("tenant-nlp", "chat", "idle")
    simulate(sandbox, seconds=400)  # changes made while the watches reconnect

    _flushed_until(w, lambda: _row(d).status == Status.SCALED_TO_ZERO, "scaled to zero after the drop")
    assert len(_lists(sandbox)) == lists_before, "resumed from the resourceVersion, no relist"
    assert not d.status_message.startswith("cluster")


def test_after_compaction_the_watch_lists_again_and_misses_nothing(sandbox, sandbox_kubeconfig, deployer, watcher):
    d, w = _chat_running(sandbox, deployer, watcher)
    lists_before = len(_lists(sandbox))

    sandbox.fail_next("GET", r"^/api/v1/pods$", status=503, times=2)  # hold the reconnect back ...
    sandbox.watches_drop()
    sandbox.simulator.set_traffic("tenant-nlp", "chat", "idle")
    simulate(sandbox, seconds=400)
    sandbox.compact()  # ... while the history it would resume from is compacted away: 410 Expired

    _flushed_until(w, lambda: _row(d).status == Status.SCALED_TO_ZERO, "scaled to zero after 410")
    assert len(_lists(sandbox)) > lists_before, "410 Expired made the watcher list again"


def test_a_sweep_of_unchanged_deployments_writes_no_row(sandbox, sandbox_kubeconfig, deployer, watcher,
                                                       django_assert_max_num_queries):
    for i in range(5):
        deployment_pushed(deployer, name=f"svc-{i}")
    w = watcher()
    simulate(sandbox)
    # Settled: running, and the revisions' watch has said they are idle (no traffic was simulated).
    _flushed_until(w, lambda: Deployment.objects.filter(status=Status.RUNNING, idle_since__isnull=False).count() == 5,
                   "5 running, idle")

    # The live rows, the dry decisions (no column they do not read is loaded later, row by row), last_synced_at.
    with django_assert_max_num_queries(3):
        assert w.sweep() == 0, "nothing changed: no deployment row rewritten"
    # A heartbeat that is due is heartbeats_write's (in SQL), not a reason for the sweep to rewrite rows.
    from datetime import timedelta

    from django.utils import timezone
    Deployment.objects.update(sampled_at=timezone.now() - timedelta(minutes=5))
    assert w.sweep() == 0


def _two_clusters(settings, sandbox, sandbox_b):
    """No default cluster: LAS1 served by cluster `las` (sandbox), ORD1 by `ord` (sandbox_b)."""
    settings.KUBECONFIG = ""
    for name, box, region in (("las", sandbox, "LAS1"), ("ord", sandbox_b, "ORD1")):
        Cluster.objects.create(name=name, kubeconfig_path=box.kubeconfig_path).regions.set(
            [Region.objects.get(code=region)])


def _vegas_and_chicago_running(sandbox, sandbox_b, deployer, w):
    """`vegas` on las and `chicago` on ord, pushed, simulated and shown running."""
    vegas = deployment_pushed(deployer, name="vegas", compute={"region": "LAS1"})
    chicago = deployment_pushed(deployer, name="chicago", compute={"region": "ORD1"})
    simulate(sandbox)
    simulate(sandbox_b)
    _flushed_until(w, lambda: _row(vegas).status == Status.RUNNING and _row(chicago).status == Status.RUNNING,
                   "both running")
    return vegas, chicago


def test_one_cluster_down_marks_only_its_deployments_and_they_recover(
        sandbox, sandbox_b, settings, deployer, watcher):
    _two_clusters(settings, sandbox, sandbox_b)
    vegas = deployment_pushed(deployer, name="vegas", compute={"region": "LAS1"},
                              scaling={"min_replicas": 0, "max_replicas": 4, "scale_to_zero_retention": "1m"})
    chicago = deployment_pushed(deployer, name="chicago", compute={"region": "ORD1"})
    w = watcher()
    sandbox.simulator.set_traffic("tenant-nlp", "vegas", "steady")
    simulate(sandbox)
    simulate(sandbox_b)
    _flushed_until(w, lambda: _row(vegas).ready_pods == 2 and _row(chicago).status == Status.RUNNING, "both running")

    sandbox_b.fail_next("*", r".*", status=503, times=None)
    sandbox_b.watches_drop()
    _flushed_until(w, lambda: _row(chicago).status_message.startswith("cluster ord unreachable"),
                   "chicago marked unreachable")
    assert chicago.status == Status.RUNNING, "unreachable is not failed: the last known status stays"

    sandbox.simulator.set_traffic("tenant-nlp", "vegas", "idle")
    simulate(sandbox, seconds=400)
    _flushed_until(w, lambda: _row(vegas).status == Status.SCALED_TO_ZERO, "vegas still follows its cluster")
    assert not vegas.status_message.startswith("cluster")

    sandbox_b.faults_clear()
    _flushed_until(w, lambda: not _row(chicago).status_message.startswith("cluster"), "chicago recovered",
                   timeout=20)
    assert chicago.status == Status.RUNNING


def test_a_clusters_sweep_decides_and_stamps_only_the_deployments_of_its_regions(
        sandbox, sandbox_b, settings, deployer, watcher):
    from django.utils import timezone

    _two_clusters(settings, sandbox, sandbox_b)
    w = watcher()
    vegas, chicago = _vegas_and_chicago_running(sandbox, sandbox_b, deployer, w)
    before = {d.name: _row(d).last_synced_at for d in (vegas, chicago)}

    w.sweep_one("las", timezone.now())

    assert _row(vegas).last_synced_at > before["vegas"]
    assert _row(chicago).last_synced_at == before["chicago"], "ord's deployment is ord's sweep's"


def test_heartbeat_samples_come_for_quiet_deployments_and_not_for_a_cluster_that_is_down(
        sandbox, sandbox_b, settings, deployer, watcher):
    from datetime import timedelta

    from django.utils import timezone

    from spend.models import StatusSample

    _two_clusters(settings, sandbox, sandbox_b)
    w = watcher()
    vegas, chicago = _vegas_and_chicago_running(sandbox, sandbox_b, deployer, w)
    sandbox_b.fail_next("*", r".*", status=503, times=None)
    sandbox_b.watches_drop()
    _flushed_until(w, lambda: _row(chicago).status_message.startswith("cluster ord"), "ord down")
    long_ago = timezone.now() - timedelta(seconds=settings.SAMPLE_HEARTBEAT_SECONDS + 5)
    Deployment.objects.update(sampled_at=long_ago, last_synced_at=long_ago)
    before = {d: StatusSample.objects.filter(deployment=d).count() for d in (vegas, chicago)}

    assert w.heartbeats() == 1

    sample = StatusSample.objects.filter(deployment=vegas).latest("at")
    assert StatusSample.objects.filter(deployment=vegas).count() == before[vegas] + 1
    assert (sample.status, sample.ready_pods, sample.gpus_in_use) == (Status.RUNNING, 1, vegas.gpus_per_replica)
    assert _row(vegas).sampled_at > long_ago and vegas.last_synced_at > long_ago
    assert StatusSample.objects.filter(deployment=chicago).count() == before[chicago], "ord is down: no heartbeat"
    assert w.heartbeats() == 0, "not due again yet"
