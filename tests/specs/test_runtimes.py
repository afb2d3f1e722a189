"""Serving runtimes in the spec: default images, Knative's target per runtime, the region's storage endpoints.

Against the seeded catalog (migration 0005 gives every region CoreWeave's endpoints: https://cwobject.com and,
through the node-local LOTA cache, http://cwlota.com).
"""

import pytest

from catalog.models import Region
from specs.runtimes import DEFAULT_IMAGES
from tests.factories import online_spec
from tests.spec_helpers import complete, validate

pytestmark = pytest.mark.usefixtures("team")


def _completed(spec):
    result = validate(spec)
    assert result.ok, result.errors
    completed, notes = complete(result.spec)
    return completed, {n["field"]: n for n in notes}


def _runtime(kind, **extra):
    return {"kind": kind, "port": 8000, "protocol": "http", **extra}


@pytest.mark.parametrize("kind", ["vllm", "tgi", "triton"])
def test_a_serving_runtime_without_an_image_gets_its_pinned_release(kind):
    result = validate(online_spec(runtime=_runtime(kind), target="kserve"))
    assert result.ok, result.errors
    assert result.spec["runtime"]["image"] == DEFAULT_IMAGES[kind]
    assert ":" in DEFAULT_IMAGES[kind].rsplit("/", 1)[-1]  # a tag: every revision runs the same code


def test_a_custom_image_still_has_to_be_named():
    result = validate(online_spec(runtime={"kind": "custom", "port": 8080}))
    assert [(e.code, e.field) for e in result.errors] == [("missing_image", "runtime.image")]


def test_an_image_the_user_gives_is_kept():
    result = validate(online_spec(runtime=_runtime("vllm", image="registry.example/vllm:patched-1")))
    assert result.spec["runtime"]["image"] == "registry.example/vllm:patched-1"


def test_a_command_belongs_to_custom_images_only():
    result = validate(online_spec(runtime=_runtime("vllm", command=["python", "-m", "x"])))
    assert [(e.code, e.field) for e in result.errors] == [("invalid_value", "runtime.command")]
    assert "`runtime.kind` set to `custom`" in result.errors[0].message
    result = validate(online_spec(runtime={"image": "ghcr.io/acme/x:1", "command": ["serve", "--token=hf_abcdefghijkl"]}))
    assert [(e.code, e.field) for e in result.errors] == [("plaintext_secret", "runtime.command.1")]


@pytest.mark.parametrize("kind, target", [("vllm", 32), ("tgi", 32), ("custom", 1), ("triton", 1)])
def test_knative_target_concurrency_follows_the_runtime_and_is_explained(kind, target):
    runtime = _runtime(kind) if kind != "custom" else {"image": "ghcr.io/acme/x:1", "port": 8080}
    fmt = {"tgi": "safetensors", "triton": "other"}.get(kind, "tensorizer")
    spec = online_spec(runtime=runtime, target="kserve")
    spec["model"] = {**spec["model"], "format": fmt}
    completed, notes = _completed(spec)
    assert completed["scaling"]["target_concurrency"] == target
    reason = notes["scaling.target_concurrency"]["reason"]
    assert ("Continuous batching" in reason) == (kind in ("vllm", "tgi")), reason


def test_more_sequences_than_the_default_raise_the_target_and_batching_sets_it():
    spec = online_spec(runtime=_runtime("vllm"), serving={"max_concurrent_sequences": 64})
    assert _completed(spec)[0]["scaling"]["target_concurrency"] == 64
    spec = online_spec(batching={"max_batch_size": 8, "max_latency_ms": 20})
    completed, notes = _completed(spec)
    assert completed["scaling"]["target_concurrency"] == 8 and "batch of 8" in notes["scaling.target_concurrency"]["reason"]
    spec = online_spec(runtime=_runtime("vllm"), scaling={"target_concurrency": 5, "min_replicas": 0})
    completed, notes = _completed(spec)
    assert completed["scaling"]["target_concurrency"] == 5 and "scaling.target_concurrency" not in notes


@pytest.mark.parametrize("tier, endpoint", [("object", "https://cwobject.com"),
                                            ("accelerated-object", "http://cwlota.com")])
def test_the_storage_tier_picks_the_regions_endpoint(tier, endpoint):
    completed, notes = _completed(online_spec(storage={"tier": tier, "credentials_secret": "s3-creds"}))
    assert completed["storage"]["endpoint"] == endpoint
    assert "LAS1" in notes["storage.endpoint"]["reason"]


@pytest.mark.django_db
def test_staff_edits_to_a_regions_endpoints_reach_new_specs():
    Region.objects.filter(code="LAS1").update(accelerated_endpoint="http://cache.las1.example:9000")
    completed, _ = _completed(online_spec(storage={"tier": "accelerated-object"}))
    assert completed["storage"]["endpoint"] == "http://cache.las1.example:9000"
    Region.objects.filter(code="LAS1").update(accelerated_endpoint="")
    completed, _ = _completed(online_spec(storage={"tier": "accelerated-object"}))
    assert "endpoint" not in completed["storage"]  # none known: the server falls back to the Secret's


def test_a_volume_model_has_no_endpoint_and_a_given_one_is_kept():
    completed, _ = _completed(online_spec(model={"uri": "pvc://weights/llama/", "parameters_billions": 8},
                                          target="kserve"))
    assert "endpoint" not in completed["storage"]
    completed, notes = _completed(online_spec(storage={"tier": "object", "endpoint": "https://s3.example:8443"}))
    assert completed["storage"]["endpoint"] == "https://s3.example:8443" and "storage.endpoint" not in notes


@pytest.mark.parametrize("endpoint", ["cwobject.com", "https://cwobject.com/bucket", "ftp://x", "https://a b"])
def test_an_endpoint_that_is_not_a_bare_url_is_refused_with_the_fix(endpoint):
    result = validate(online_spec(storage={"tier": "object", "endpoint": endpoint}))
    assert [(e.code, e.field) for e in result.errors] == [("invalid_value", "storage.endpoint")]
    assert "https://cwobject.com" in result.errors[0].message


@pytest.mark.parametrize("schedule, timezone, field", [
    ("0 3 * * *", None, None), ("@daily", "Europe/Berlin", None), ("*/15 * * * 1-5", "UTC", None),
    ("every night", None, "batch.schedule"), ("0 3 * *", None, "batch.schedule"),
    ("0 3 * * *", "Mars/Olympus", "batch.timezone"),
])
def test_a_batch_schedule_is_cron_with_an_iana_time_zone(schedule, timezone, field):
    from tests.factories import batch_spec

    batch = {"inputs_uri": "s3://data/in/", "outputs_uri": "s3://data/out/", "schedule": schedule}
    if timezone:
        batch["timezone"] = timezone
    result = validate(batch_spec(batch=batch))
    assert [e.field for e in result.errors] == ([field] if field else [])
