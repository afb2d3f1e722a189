"""The catalog snapshot the recommender reads: free GPUs per region and class, a draining region's as 0."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import Region, RegionOffering
from catalog.selectors import catalog_snapshot
from clusters.models import Cluster

pytestmark = pytest.mark.django_db


def _cluster(name, region, **fields):
    cluster = Cluster.objects.create(name=name, kubeconfig_path=f"/etc/gantry/{name}/kubeconfig", **fields)
    cluster.regions.set([Region.objects.get(code=region)])
    return cluster


def test_the_snapshot_carries_each_offerings_free_gpus():
    RegionOffering.objects.filter(gpu_class__name="A40", region__code="LAS1").update(override_gpus=None,
                                                                                     reported_free=3)
    regions = catalog_snapshot().regions
    assert regions["LAS1"].offerings["A40"] == 3  # the report, once staff's number is cleared
    assert regions["RNO2"].offerings["H200"] == 192  # staff's number
    assert not regions["LAS1"].draining


def test_a_draining_clusters_regions_have_nothing_free_for_new_deployments():
    _cluster("las", "LAS1", draining=True)
    _cluster("ord", "ORD1")
    _cluster("old-lga", "LGA1", draining=True, enabled=False)  # disabled: LGA1 goes to the default cluster

    with CaptureQueriesContext(connection) as queries:
        regions = catalog_snapshot().regions

    las = regions["LAS1"]
    assert las.draining and set(las.offerings.values()) == {0}
    assert "A40" in las.offerings  # still offered there: the class did not vanish, the room did
    assert not regions["ORD1"].draining and regions["ORD1"].offerings["A40"] == 48
    assert not regions["LGA1"].draining and regions["LGA1"].offerings["A40"] == 32
    assert len(queries.captured_queries) == 6  # one per catalog table, whatever the clusters
