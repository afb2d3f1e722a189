"""Staff give a region to another cluster: reconcile moves the deployments there the way a push moves them (issue 17).

Two sandbox clusters over real HTTP: las serves LAS1 (`sandbox`), ord serves ORD1 (`sandbox_b`). The move is
recorded like a push (applied cluster, last push, an event saying from where to where), and the old cluster keeps
serving until the new one is ready, then loses the deployment's objects.
"""

import pytest

import clusters
from audit.models import Event
from catalog.models import Region
from clusters.models import Cluster
from deployments.models import Deployment
from deployments.services import lifecycle
from deployments.services.push import deployment_teardown_run
from deployments.services.reconcile import reconcile
from deployments.services.sync import status_sync
from specs.vocabulary import Status
from tests.cluster_helpers import ISVC, KSVC, deployment_pushed

pytestmark = pytest.mark.timeout(60)


def simulate(sandbox):
    for _ in range(2):
        sandbox.simulator.tick()
        sandbox.simulator.advance(30)
    sandbox.simulator.tick()


def _cluster(name, sandbox, *regions):
    cluster = Cluster.objects.create(name=name, kubeconfig_path=sandbox.kubeconfig_path)
    cluster.regions.set(Region.objects.filter(code__in=regions))
    return cluster


@pytest.fixture
def two_clusters(sandbox, sandbox_b, settings, db):
    settings.KUBECONFIG = ""
    return _cluster("las", sandbox, "LAS1"), _cluster("ord", sandbox_b, "ORD1")


def _give(region, to, *, frm):
    """What staff do in the admin console: the region leaves one cluster's list and joins another's."""
    frm.regions.remove(Region.objects.get(code=region))
    to.regions.add(Region.objects.get(code=region))


def _everything(sandbox):
    types = (KSVC, ISVC, "persistentvolumeclaims", "serviceaccounts")
    return {(t, obj["metadata"]["name"]) for t in types for obj in sandbox.objects(t, "tenant-nlp")
            if (obj["metadata"].get("labels") or {}).get(clusters.DEPLOYMENT_LABEL)}


def _running(deployer, name, sandbox):
    d = deployment_pushed(deployer, name=name, compute={"region": "LAS1"})
    simulate(sandbox)
    status_sync()
    d.refresh_from_db()
    assert d.status == Status.RUNNING and d.applied_cluster == "las"
    return d


def test_a_region_given_to_another_cluster_moves_its_deployment_like_a_push(two_clusters, sandbox, sandbox_b,
                                                                           deployer):
    las, ord_ = two_clusters
    d = _running(deployer, "mover", sandbox)
    on_las = _everything(sandbox)
    assert (KSVC, "mover") in on_las

    _give("LAS1", ord_, frm=las)
    done = reconcile()

    moved = Deployment.objects.get(pk=d.pk)
    assert done["drifted"] == 1 and done["superseded"] == 0
    assert _everything(sandbox_b) >= {(KSVC, "mover")}
    assert _everything(sandbox) == on_las  # las serves until ord is ready
    assert moved.applied_cluster == "ord" and moved.applied_revision == 1
    assert {ref["cluster"] for ref in moved.superseded} == {"las"}
    assert moved.last_pushed_at > d.last_pushed_at and moved.push_attempts == d.push_attempts + 1
    assert moved.status == Status.RUNNING
    event = Event.objects.filter(deployment=d, kind=Event.Kind.PUSH).latest("pk")
    assert event.message.startswith("Region LAS1 is served by cluster ord now: Applied revision 1")
    assert "moved from cluster las" in event.message
    assert (event.data["cluster"], event.data["moved_from"]) == ("ord", "las")
    assert not Event.objects.filter(deployment=d, kind=Event.Kind.DRIFT).exists()

    simulate(sandbox_b)
    status_sync()
    done = reconcile()

    assert done["drifted"] == 0
    assert done["superseded"] == len(on_las)
    assert _everything(sandbox) == set()
    assert (KSVC, "mover") in _everything(sandbox_b)
    assert Deployment.objects.get(pk=d.pk).superseded == []
    assert Event.objects.filter(deployment=d, message__startswith="Moved to cluster ord: removed Service "
                                                                  "tenant-nlp/mover from cluster las").exists()


def test_a_move_to_a_cluster_that_does_not_answer_is_retried_and_the_old_one_keeps_serving(
        two_clusters, sandbox, sandbox_b, deployer):
    las, ord_ = two_clusters
    d = _running(deployer, "patient", sandbox)
    _give("LAS1", ord_, frm=las)
    sandbox_b.drop_next("*", ".*", times=1000)

    assert reconcile()["drifted"] == 0
    d.refresh_from_db()
    assert d.applied_cluster == "las" and d.superseded == []
    assert Event.objects.filter(deployment=d, message__startswith="Region LAS1 is served by cluster ord now: "
                                                                  "applying revision 1 there failed").exists()
    assert (KSVC, "patient") in _everything(sandbox)

    sandbox_b.faults_clear()
    assert reconcile()["drifted"] == 1
    assert Deployment.objects.get(pk=d.pk).applied_cluster == "ord"


def test_giving_the_region_back_before_the_new_cluster_was_ready_keeps_the_original(two_clusters, sandbox,
                                                                                     sandbox_b, deployer):
    las, ord_ = two_clusters
    d = _running(deployer, "boomerang", sandbox)
    _give("LAS1", ord_, frm=las)
    reconcile()
    _give("LAS1", las, frm=ord_)

    done = reconcile()

    # Back on las, which is ready: what went to ord goes at once, what serves on las stays.
    assert done["drifted"] == 1 and done["superseded"] >= 1
    d.refresh_from_db()
    assert d.applied_cluster == "las" and d.superseded == []
    assert _everything(sandbox_b) == set()
    assert (KSVC, "boomerang") in _everything(sandbox)
    assert Event.objects.filter(deployment=d, message__contains="moved from cluster ord").exists()


def test_a_deployment_still_applying_is_moved_too_and_runs_on_the_new_cluster(two_clusters, sandbox, sandbox_b,
                                                                            deployer):
    las, ord_ = two_clusters
    d = deployment_pushed(deployer, name="early", compute={"region": "LAS1"})
    assert d.status == Status.APPLYING
    _give("LAS1", ord_, frm=las)

    assert reconcile()["drifted"] == 1
    assert Deployment.objects.get(pk=d.pk).applied_cluster == "ord"
    simulate(sandbox_b)
    status_sync()
    reconcile()

    d.refresh_from_db()
    assert d.status == Status.RUNNING and d.superseded == []
    assert _everything(sandbox) == set()
    assert (KSVC, "early") in _everything(sandbox_b)


def test_a_tear_down_while_moving_removes_the_deployment_from_both_clusters(two_clusters, sandbox, sandbox_b,
                                                                            deployer):
    las, ord_ = two_clusters
    d = _running(deployer, "leaver", sandbox)
    _give("LAS1", ord_, frm=las)
    reconcile()
    d.refresh_from_db()

    lifecycle.deployment_teardown(user=deployer, deployment=d)
    assert deployment_teardown_run(deployment_id=d.pk)

    assert _everything(sandbox) == _everything(sandbox_b) == set()
