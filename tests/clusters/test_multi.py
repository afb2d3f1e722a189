"""Several clusters, one per region (issue 17, step 1): two sandbox API servers serving LAS1 and ORD1.

Over real HTTP: each sandbox's own store says where a deployment landed.
"""

import pytest

from catalog.models import Region
from clusters.client import api_client
from clusters.models import Cluster
from deployments.selectors_logs import LogQuery, deployment_log_read, deployment_pods, log_source
from deployments.services import lifecycle
from deployments.services.push import deployment_teardown_run
from deployments.services.reconcile import drift_detect
from deployments.services.sync import status_sync
from specs.vocabulary import Status
from tests.cluster_helpers import KSVC, deployment_pushed

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
