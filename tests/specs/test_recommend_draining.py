"""A region whose cluster is draining counts no free GPUs for new deployments: the recommender never picks it and
says why; what already runs there keeps its place."""

import pytest

from catalog.models import Region
from clusters.models import Cluster
from tests.factories import online_spec
from tests.spec_helpers import complete, validate

pytestmark = pytest.mark.usefixtures("team")

WHY = "its cluster is being drained: it keeps running the deployments it has but takes no new ones"


@pytest.fixture
def draining(db):
    """Make the cluster of the given regions drain (one Cluster record serving them)."""
    def drain(*codes):
        cluster = Cluster.objects.create(name="old-east", kubeconfig_path="/etc/gantry/old-east/kubeconfig",
                                         draining=True)
        cluster.regions.set(Region.objects.filter(code__in=codes))
        return cluster
    return drain


def _note(notes, field):
    return next(n for n in notes if n["field"] == field)


def test_the_region_with_the_most_gpus_free_is_skipped_while_it_drains(draining):
    # H200: US-EAST-04 has 256 free, RNO2 192 (the seeded catalog). Draining US-EAST-04 leaves RNO2.
    draining("US-EAST-04")
    spec, notes = complete(online_spec(compute={"gpu_class": "H200"}))
    assert spec["compute"]["region"] == "RNO2"
    assert f"US-EAST-04 is left out: {WHY}." in _note(notes, "compute.region")["reason"]


def test_asking_for_a_draining_region_explains_and_points_elsewhere(draining):
    draining("LAS1")
    spec, notes = complete(online_spec())  # 8B bf16 in LAS1, class left out
    problem = next(n for n in notes if n.get("error"))
    assert problem["field"] == "compute.gpu_class" and "gpu_class" not in spec["compute"]
    assert problem["reason"].startswith(f"LAS1 takes no new deployments: {WHY}.")
    assert "RTX_A5000; choose that region or leave" in problem["reason"]  # the same fit elsewhere


def test_cpu_nodes_skip_a_draining_region_too(draining):
    draining("EU-SOUTH-03")  # the first region by name
    spec, notes = complete(online_spec(compute={"accelerator": "cpu"}, model={
        "uri": "s3://models/m/model.tensors", "parameters_billions": 1, "precision": "bf16", "format": "tensorizer"}))
    assert spec["compute"]["region"] == "LAS1"
    assert f"EU-SOUTH-03 is left out: {WHY}." in _note(notes, "compute.region")["reason"]


def test_a_draining_region_is_not_suggested_as_an_alternative(draining):
    draining("US-EAST-04")
    result = validate(online_spec(compute={"region": "LGA1", "gpu_class": "H200", "gpus_per_replica": 1}))
    error = next(e for e in result.errors if e.code == "gpu_not_in_region")
    assert "Regions with it: RNO2;" in error.message


def test_a_deployment_already_in_the_draining_region_keeps_its_place(draining):
    before, _ = complete(online_spec())  # completed while LAS1 took new deployments
    draining("LAS1")
    after, notes = complete(before)
    assert after["compute"] == before["compute"] and after["compute"]["region"] == "LAS1"
    assert not [n for n in notes if n.get("error")] and validate(after).ok
