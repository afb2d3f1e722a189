"""Canary traffic in the rendered objects (specs/traffic.py): valid against the upstream CRDs, and nothing
changes for a deployment that never had a rollout."""

import pytest

from sandbox.crdschema import validate_object
from specs.render import knative_service_render, manifests_render
from specs.traffic import Rollout
from tests.specs.test_render import completed


def _main(objects):
    return objects[-1]


def test_no_rollout_renders_exactly_as_before():
    spec = completed()
    assert manifests_render(spec, revision=2, rollout=None) == manifests_render(spec, revision=2)
    assert "traffic" not in _main(manifests_render(spec, revision=2))["spec"]


def test_a_canary_at_20_percent_pins_the_stable_revision_and_names_the_new_one():
    ksvc = knative_service_render(completed(), revision=2, rollout=Rollout(stable_name="llama-chat-00001",
                                                                              canary_percent=20))
    assert ksvc["spec"]["template"]["metadata"]["name"] == "llama-chat-r2"
    assert ksvc["spec"]["traffic"] == [
        {"revisionName": "llama-chat-00001", "percent": 80, "tag": "stable"},
        {"latestRevision": True, "percent": 20, "tag": "canary"},
    ]


def test_rolled_back_sends_everything_to_the_stable_revision_and_promoted_to_the_latest():
    back = knative_service_render(completed(), revision=2, rollout=Rollout(stable_name="llama-chat-r1", canary_percent=0))
    assert [t["percent"] for t in back["spec"]["traffic"]] == [100, 0]
    assert back["spec"]["traffic"][0]["revisionName"] == "llama-chat-r1"
    promoted = knative_service_render(completed(), revision=2, rollout=Rollout())
    assert promoted["spec"]["traffic"] == [{"latestRevision": True, "percent": 100}]
    assert promoted["spec"]["template"]["metadata"]["name"] == "llama-chat-r2"


def test_kserve_gets_canary_traffic_percent_and_loses_it_when_promoted():
    spec = completed(target="kserve")
    canary = _main(manifests_render(spec, revision=2, rollout=Rollout(canary_percent=20)))
    assert canary["spec"]["predictor"]["canaryTrafficPercent"] == 20
    back = _main(manifests_render(spec, revision=2, rollout=Rollout(canary_percent=0)))
    assert back["spec"]["predictor"]["canaryTrafficPercent"] == 0
    assert "canaryTrafficPercent" not in _main(manifests_render(spec, revision=2, rollout=Rollout()))["spec"]["predictor"]


@pytest.mark.parametrize("target", ["knative", "kserve"])
@pytest.mark.parametrize("rollout", [Rollout(stable_name="llama-chat-00001", canary_percent=20),
                                     Rollout(stable_name="llama-chat-r1", canary_percent=0), Rollout()],
                         ids=["canary", "rolled-back", "promoted"])
def test_rendered_traffic_validates_strictly_against_upstream_crds(target, rollout):
    for obj in manifests_render(completed(target=target), revision=2, rollout=rollout):
        assert validate_object(obj) == [], obj["kind"]
