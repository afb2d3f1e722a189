"""Several clusters, one per region (issue 17, step 1): two sandbox API servers serving LAS1 and ORD1.

Over real HTTP: each sandbox's own store says where a deployment landed.
"""

import pytest

import clusters
from audit.models import Event
from catalog.models import Region
from clusters.client import api_client
from clusters.models import Cluster
from deployments.models import Deployment
from deployments.selectors_logs import LogQuery, deployment_log_read, deployment_pods, log_source
from deployments.services import lifecycle
from deployments.services.push import deployment_push, deployment_teardown_run
from deployments.services.reconcile import drift_detect, reconcile
from deployments.services.sync import status_sync
from specs.vocabulary import Status
from tests.cluster_helpers import ISVC, KSVC, deployment_pushed
from tests.factories import online_spec

pytestmark = pytest.mark.timeout(60)


def simulate(*sandboxes, seconds=30, steps=2):
    for sandbox in sandboxes:
        for _ in range(steps):
            sandbox.simulator.tick()
            sandbox.simulator.advance(seconds)
        sandbox.simulator.tick()


def _cluster(name, sandbox, region):
    cluster = Cluster.objects.create(name=name, kubeconfig_path=sandbox.kubeconfig_path)
    cluster.regions.set([Region.objects.get(code=region)])
    return cluster


@pytest.fixture
def two_clusters(sandbox, sandbox_b, settings, db):
    """las serves LAS1 from `sandbox`, ord serves ORD1 from `sandbox_b`; no default cluster at all."""
    settings.KUBECONFIG = ""
    return _cluster("las", sandbox, "LAS1"), _cluster("ord", sandbox_b, "ORD1")


def _pushed(deployer, name, region):
    return deployment_pushed(deployer, name=name, compute={"region": region})


def _names(sandbox, kind=KSVC):
    return {obj["metadata"]["name"] for obj in sandbox.objects(kind, "tenant-nlp")}


def test_deployments_land_on_the_cluster_of_their_region(two_clusters, sandbox, sandbox_b, deployer):
    _pushed(deployer, "vegas", "LAS1")
    _pushed(deployer, "chicago", "ORD1")

    assert _names(sandbox) == {"vegas"}
    assert _names(sandbox_b) == {"chicago"}
    # The team's namespace is made on each cluster that runs one of its deployments.
    assert sandbox_b.object("namespaces", None, "tenant-nlp") is not None


def test_teardown_removes_the_objects_from_the_right_cluster(two_clusters, sandbox, sandbox_b, deployer):
    _pushed(deployer, "vegas", "LAS1")
    chicago = _pushed(deployer, "chicago", "ORD1")

    lifecycle.deployment_teardown(user=deployer, deployment=chicago)
    assert deployment_teardown_run(deployment_id=chicago.pk)

    chicago.refresh_from_db()
    assert chicago.status == Status.DELETED
    assert _names(sandbox_b) == set()
    assert _names(sandbox) == {"vegas"}


def test_logs_are_read_from_the_deployments_cluster(two_clusters, sandbox, sandbox_b, deployer):
    _pushed(deployer, "vegas", "LAS1")
    chicago = _pushed(deployer, "chicago", "ORD1")
    simulate(sandbox, sandbox_b)
    sandbox.clear_log()
    sandbox_b.clear_log()

    pods = deployment_pods(chicago)
    assert pods and all(pod["name"].startswith("chicago") for pod in pods)
    query = LogQuery(tail=5)
    pod, container = log_source(chicago, pods, query)
    assert deployment_log_read(chicago, pod, container, query)

    assert [r.path for r in sandbox_b.requests if r.path.endswith("/log")] == [
        f"/api/v1/namespaces/tenant-nlp/pods/{pod['name']}/log"]
    assert sandbox.requests == []


def test_an_unreachable_cluster_marks_only_its_deployments_and_they_recover(two_clusters, sandbox, sandbox_b,
                                                                            deployer):
    vegas = _pushed(deployer, "vegas", "LAS1")
    chicago = _pushed(deployer, "chicago", "ORD1")
    simulate(sandbox, sandbox_b)
    status_sync()
    vegas.refresh_from_db()
    chicago.refresh_from_db()
    assert vegas.status == chicago.status == Status.RUNNING

    sandbox_b.drop_next("*", ".*", times=1000)  # every connection to ord is cut
    reno = _pushed(deployer, "reno", "LAS1")
    simulate(sandbox)
    result = status_sync()

    reno.refresh_from_db()
    chicago.refresh_from_db()
    assert reno.status == Status.RUNNING  # las is synced as if nothing happened
    assert result["deployments"] == 2
    assert chicago.status == Status.RUNNING  # last known state kept: not failed
    assert chicago.status_message.startswith("cluster ord unreachable")
    vegas.refresh_from_db()
    assert vegas.status_message == ""

    sandbox_b.faults_clear()
    status_sync()
    chicago.refresh_from_db()
    assert chicago.status == Status.RUNNING and chicago.status_message == ""


def test_drift_is_checked_and_repaired_on_the_deployments_cluster(two_clusters, sandbox, sandbox_b, deployer):
    chicago = _pushed(deployer, "chicago", "ORD1")
    simulate(sandbox_b)
    status_sync()
    sandbox_b.store.reset()  # ord was rebuilt: the Service (and its namespace) is gone
    chicago.refresh_from_db()
    assert chicago.status == Status.RUNNING

    assert drift_detect() == 1
    assert _names(sandbox_b) == {"chicago"}
    assert _names(sandbox) == set()


def test_a_region_no_enabled_cluster_serves_goes_to_the_default_cluster(two_clusters, sandbox, sandbox_b,
                                                                       deployer, settings):
    Cluster.objects.filter(name="ord").update(enabled=False)
    settings.KUBECONFIG = sandbox.kubeconfig_path

    _pushed(deployer, "chicago", "ORD1")

    assert _names(sandbox) == {"chicago"}
    assert _names(sandbox_b) == set()


def test_each_cluster_has_its_own_client_cached_per_connection(two_clusters):
    las, ord_ = (cluster.ref() for cluster in two_clusters)
    assert api_client(las) is api_client(las)
    assert api_client(las) is not api_client(ord_)
    assert api_client(las).configuration.host != api_client(ord_).configuration.host


# --- Moving a deployment to another region's cluster (issue 17: apply there, wait for ready, remove here) ---

def _everything(sandbox):
    """The deployment objects Gantry put in the team's namespace: {(type, name)}."""
    types = (KSVC, ISVC, "persistentvolumeclaims", "serviceaccounts")
    return {(t, obj["metadata"]["name"]) for t in types for obj in sandbox.objects(t, "tenant-nlp")
            if (obj["metadata"].get("labels") or {}).get(clusters.DEPLOYMENT_LABEL)}


def _moved(deployer, d, spec):
    d.refresh_from_db()
    lifecycle.deployment_update(user=deployer, deployment=d, spec=spec)
    d.refresh_from_db()
    assert deployment_push(deployment_id=d.pk, revision=d.current_revision.number)
    d.refresh_from_db()
    return d


def test_a_region_move_serves_from_both_clusters_until_the_new_one_is_ready_then_only_the_new(
        two_clusters, sandbox, sandbox_b, deployer):
    d = _pushed(deployer, "mover", "LAS1")
    simulate(sandbox)
    status_sync()
    on_las = _everything(sandbox)
    assert (KSVC, "mover") in on_las

    d = _moved(deployer, d, online_spec(name="mover", compute={"region": "ORD1"}))
    assert d.applied_cluster == "ord"
    assert {ref["cluster"] for ref in d.superseded} == {"las"}
    assert {(ref["kind"], ref["name"]) for ref in d.superseded} >= {("Service", "mover")}
    assert Event.objects.filter(deployment=d, message__contains="moved from cluster las").exists()

    # Not ready on ord yet: las keeps serving, reconcile leaves it alone.
    assert d.status == Status.APPLYING
    assert reconcile()["superseded"] == 0
    assert _everything(sandbox) == on_las
    assert _names(sandbox_b) == {"mover"}

    simulate(sandbox_b)
    status_sync()
    d.refresh_from_db()
    assert d.status == Status.RUNNING
    assert reconcile()["superseded"] == len(on_las)
    assert _everything(sandbox) == set()
    assert _names(sandbox_b) == {"mover"}
    assert Deployment.objects.get(pk=d.pk).superseded == []
    assert Event.objects.filter(deployment=d, message__startswith="Moved to cluster ord: removed Service "
                                                                  "tenant-nlp/mover from cluster las").exists()


def test_a_move_takes_the_volume_and_service_account_the_deployment_created(two_clusters, sandbox, sandbox_b,
                                                                           deployer, team):
    team.gpu_quota, team.monthly_budget_usd = 100, 10**6
    team.save()
    volume = {"uri": "pvc://vol/llama-3-8b/model.tensors", "parameters_billions": 8, "precision": "bf16",
              "format": "tensorizer"}
    d = deployment_pushed(deployer, name="heavy", target="kserve", model=volume,
                          storage={"tier": "nvme-pvc", "pvc_size_gi": 50})
    assert ("persistentvolumeclaims", "vol") in _everything(sandbox)
    keeper = deployment_pushed(deployer, name="keeper", target="kserve", compute={"region": "LAS1"},
                               storage={"credentials_secret": "s3-creds", "endpoint": "https://s3.example"})
    account = {name for t, name in _everything(sandbox) if t == "serviceaccounts"}
    assert account  # KServe reads the S3 settings from a service account Gantry made

    d = _moved(deployer, d, online_spec(name="heavy", target="kserve", compute={"region": "ORD1"}, model=volume,
                                        storage={"tier": "nvme-pvc", "pvc_size_gi": 50}))
    keeper = _moved(deployer, keeper, online_spec(name="keeper", target="kserve", compute={"region": "ORD1"},
                                                  storage={"credentials_secret": "s3-creds",
                                                           "endpoint": "https://s3.example"}))
    assert ("persistentvolumeclaims", "vol") in _everything(sandbox_b)
    simulate(sandbox_b)
    status_sync()
    reconcile()
    assert _everything(sandbox) == set()
    assert account <= {name for t, name in _everything(sandbox_b) if t == "serviceaccounts"}


def test_a_tear_down_during_a_move_removes_the_objects_from_both_clusters(two_clusters, sandbox, sandbox_b,
                                                                         deployer):
    d = _pushed(deployer, "leaver", "LAS1")
    d = _moved(deployer, d, online_spec(name="leaver", compute={"region": "ORD1"}))
    assert _names(sandbox) == _names(sandbox_b) == {"leaver"}

    lifecycle.deployment_teardown(user=deployer, deployment=d)
    assert deployment_teardown_run(deployment_id=d.pk)

    d.refresh_from_db()
    assert d.status == Status.DELETED and d.superseded == []
    assert _everything(sandbox) == _everything(sandbox_b) == set()


def test_a_tear_down_after_a_region_change_not_pushed_yet_removes_the_objects_where_they_are(
        two_clusters, sandbox, sandbox_b, deployer):
    d = _pushed(deployer, "stayer", "LAS1")
    d.refresh_from_db()
    lifecycle.deployment_update(user=deployer, deployment=d, spec=online_spec(name="stayer",
                                                                              compute={"region": "ORD1"}))
    d.refresh_from_db()
    lifecycle.deployment_teardown(user=deployer, deployment=d)
    assert deployment_teardown_run(deployment_id=d.pk)
    assert _everything(sandbox) == _everything(sandbox_b) == set()


def test_moving_back_before_the_new_cluster_was_ready_keeps_the_original(two_clusters, sandbox, sandbox_b, deployer):
    d = _pushed(deployer, "boomerang", "LAS1")
    d = _moved(deployer, d, online_spec(name="boomerang", compute={"region": "ORD1"}))
    d = _moved(deployer, d, online_spec(name="boomerang", compute={"region": "LAS1"}))
    assert {ref["cluster"] for ref in d.superseded} == {"ord"}
    simulate(sandbox)
    status_sync()
    reconcile()
    assert _names(sandbox) == {"boomerang"}
    assert _names(sandbox_b) == set()


def test_a_move_waits_while_the_old_cluster_is_unreachable(two_clusters, sandbox, sandbox_b, deployer):
    d = _pushed(deployer, "patient", "LAS1")
    d = _moved(deployer, d, online_spec(name="patient", compute={"region": "ORD1"}))
    simulate(sandbox_b)
    status_sync()
    sandbox.drop_next("*", ".*", times=1000)
    assert reconcile()["superseded"] == 0
    assert Deployment.objects.get(pk=d.pk).superseded
    sandbox.faults_clear()
    assert reconcile()["superseded"] >= 1
    assert _names(sandbox) == set()
