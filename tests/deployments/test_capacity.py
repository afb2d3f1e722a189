"""capacity_refresh: every serving cluster's free GPUs written onto the catalog, one stopped cluster skipped.

Two sandbox API servers: `las` serves LAS1 from `sandbox`, `ord` serves ORD1 from `sandbox_b`.
"""

import logging
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalog.models import Region, RegionOffering
from catalog.selectors import catalog_snapshot
from clusters.models import Cluster
from deployments.services.capacity import capacity_refresh
from sandbox.nodes import gpu_nodes
from sandbox.resources import resource_type
from sandbox.sim_pods import pod_set_phase

pytestmark = pytest.mark.timeout(60)


def _cluster(name, sandbox, region):
    cluster = Cluster.objects.create(name=name, kubeconfig_path=sandbox.kubeconfig_path)
    cluster.regions.set([Region.objects.get(code=region)])
    return cluster


def _offering(gpu_class, region):
    return RegionOffering.objects.get(gpu_class__name=gpu_class, region__code=region)


def _running_pod(sandbox, node, gpus):
    sandbox.store.create(resource_type("namespaces"), None, {"metadata": {"name": "tenant-nlp"}})
    pod = sandbox.store.create(resource_type("pods"), "tenant-nlp", {"metadata": {"name": "chat-1"}, "spec": {
        "nodeName": node, "containers": [{"name": "model", "image": "llm:1",
                                          "resources": {"limits": {"nvidia.com/gpu": str(gpus)}}}]}})
    pod_set_phase(sandbox.store, pod, "Running")


@pytest.fixture
def two_clusters(sandbox, sandbox_b, settings, db):
    """No default cluster; the catalog's seeded numbers cleared, so the reports decide."""
    settings.KUBECONFIG = ""
    sandbox_b.nodes_set(gpu_nodes(regions=["ORD1"], classes=["A40", "RTX_A5000"], per_class=2))
    RegionOffering.objects.update(override_gpus=None)
    return _cluster("las", sandbox, "LAS1"), _cluster("ord", sandbox_b, "ORD1")


def test_each_region_gets_the_free_gpus_of_its_own_cluster(two_clusters, sandbox, sandbox_b):
    _running_pod(sandbox, "las1-a40-1", 3)

    result = capacity_refresh()

    assert sorted(result.read) == ["las", "ord"] and not result.failed
    assert _offering("A40", "LAS1").available_gpus == 5  # one node of 8, 3 taken
    assert _offering("A40", "ORD1").available_gpus == 16  # two nodes of 8 on ord
    assert _offering("RTX_A5000", "ORD1").available_gpus == 16
    # ORD1 offers A100s in the catalog, but ord has no such node: none free there.
    assert _offering("A100_NVLINK_80GB", "ORD1").available_gpus == 0
    # Regions no cluster serves (no default cluster here) keep what they had: the catalog's estimate.
    untouched = _offering("H200", "RNO2")
    assert untouched.reported_at is None and untouched.available_gpus == 192
    free = catalog_snapshot().regions
    assert free["LAS1"].offerings["A40"] == 5 and free["ORD1"].offerings["A100_NVLINK_80GB"] == 0


def test_a_stopped_cluster_is_logged_and_skipped_the_other_still_refreshes(two_clusters, sandbox, sandbox_b, caplog):
    capacity_refresh(now=timezone.now() - timedelta(minutes=10))
    before = _offering("A40", "ORD1").reported_at
    sandbox_b.drop_next("*", ".*", times=1000)  # every connection to ord is cut
    _running_pod(sandbox, "las1-a40-1", 8)

    with caplog.at_level(logging.WARNING, logger="deployments.services.capacity"):
        result = capacity_refresh()

    assert result.read == ["las"] and list(result.failed) == ["ord"] and "cannot reach" in result.failed["ord"]
    assert _offering("A40", "LAS1").available_gpus == 0  # las read afresh: its only A40 node is full
    ord_a40 = _offering("A40", "ORD1")
    assert ord_a40.available_gpus == 16 and ord_a40.reported_at == before  # ord's last report stays, aging
    assert "free GPUs of cluster ord not refreshed" in caplog.text


def test_the_default_cluster_reports_for_every_region_no_record_serves(sandbox, sandbox_b, settings, db):
    settings.KUBECONFIG = sandbox.kubeconfig_path
    RegionOffering.objects.update(override_gpus=None)
    _cluster("ord", sandbox_b, "ORD1")  # sandbox_b's default nodes are in LAS1: nothing in ORD1

    capacity_refresh()

    assert _offering("A40", "LAS1").available_gpus == 8  # from the default cluster's LAS1 nodes
    assert _offering("H200", "RNO2").available_gpus == 0  # served by the default cluster, which has none there
    assert _offering("A40", "ORD1").available_gpus == 0  # from ord, not from the default cluster
    assert [r.path for r in sandbox_b.requests] == ["/api/v1/nodes", "/api/v1/pods"]


def test_the_queries_do_not_grow_with_clusters_or_offerings(two_clusters, sandbox, settings):
    with CaptureQueriesContext(connection) as two:
        capacity_refresh()
    settings.KUBECONFIG = sandbox.kubeconfig_path  # a third cluster, serving every other region
    with CaptureQueriesContext(connection) as three:
        capacity_refresh()
    assert RegionOffering.objects.filter(reported_at__isnull=False).count() == RegionOffering.objects.count()
    assert len(three.captured_queries) == len(two.captured_queries) == 3


def test_staff_override_wins_over_the_report_until_cleared(two_clusters, sandbox):
    RegionOffering.objects.filter(gpu_class__name="A40", region__code="LAS1").update(override_gpus=40)
    capacity_refresh()
    offering = _offering("A40", "LAS1")
    assert (offering.available_gpus, offering.available_source, offering.reported_free) == (40, "override", 8)
    offering.override_gpus = None
    offering.save()
    assert (offering.available_gpus, offering.available_source) == (8, "reported")
