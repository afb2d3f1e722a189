"""One schema (specs/schema.py): the validator, the OpenAPI document and the wizard's forms all follow it."""

import pytest

from deployments import forms
from specs.schema import FIELDS, INT, SECTIONS_DECLARED, spec_field
from tests.factories import batch_spec, online_spec
from tests.spec_helpers import validate

pytestmark = pytest.mark.usefixtures("team")

BOUNDED = [f for f in FIELDS if f.type == INT and f.maximum is not None]


def _spec_with(path, value):
    declared = spec_field(path)
    spec = batch_spec() if declared.workload == "batch" else online_spec()
    node = spec
    for key in path.split(".")[:-1]:
        node = node.setdefault(key, {})
    node[path.split(".")[-1]] = value
    if path == "runtime.kind":
        spec["target"] = "kserve"  # KServe downloads the model first: every runtime can read it there
    if path == "storage.tier" and value == "nvme-pvc":
        spec["model"]["uri"] = "pvc://models/llama-3-8b/model.tensors"  # the volume tier goes with a pvc:// URI
    if declared.section == "batching":
        node.setdefault("max_batch_size", 8)
        node.setdefault("max_latency_ms", 50)
        node[declared.name] = value
    return spec


def _bound_errors(result, path):
    # The generic bound message, or the request timeout's own (it says why: Knative's limit).
    return [e for e in result.errors if e.field == path and (
        "must be a whole number between" in e.message or e.code == "request_timeout_too_long")]


@pytest.mark.parametrize("declared", BOUNDED, ids=lambda f: f.path)
def test_the_validator_enforces_the_bounds_the_schema_declares(declared):
    # At the bound other rules may still speak (min above max, bin packing); the bound itself does not.
    assert not _bound_errors(validate(_spec_with(declared.path, int(declared.maximum))), declared.path)
    above = _bound_errors(validate(_spec_with(declared.path, int(declared.maximum) + 1)), declared.path)
    assert above and f"{int(declared.maximum)}" in above[0].message


@pytest.mark.parametrize("declared", [f for f in FIELDS if f.choices and f.path != "target"], ids=lambda f: f.path)
def test_the_validator_accepts_exactly_the_schema_choices(declared):
    for value in declared.values:
        assert declared.path not in [e.field for e in validate(_spec_with(declared.path, value)).errors]
    refused = validate(_spec_with(declared.path, "not-a-choice")).errors
    assert {e.code for e in refused if e.field == declared.path} == {"invalid_value"}
    assert all(value in next(e.message for e in refused if e.field == declared.path) for value in declared.values)


def _openapi_spec_fields(client):
    """{spec path: (description, enum values or None)} as the OpenAPI document has them."""
    components = client.get("/api/schema/?format=json").json()["components"]["schemas"]

    def target(prop):
        ref = prop.get("$ref") or next((p["$ref"] for p in prop.get("allOf", []) if "$ref" in p), None)
        return components[ref.split("/")[-1]] if ref else prop

    def described(prop):
        return prop.get("description"), target(prop).get("enum")

    found = {}
    for name, prop in components["DeploymentSpecRequest"]["properties"].items():
        if "properties" in target(prop):
            found.update({f"{name}.{sub}": described(p) for sub, p in target(prop)["properties"].items()})
        else:
            found[name] = described(prop)
    return found


def test_the_openapi_document_describes_every_schema_field_with_its_help(client):
    documented = _openapi_spec_fields(client)
    assert set(documented) == {f.path for f in FIELDS}
    for declared in FIELDS:
        description, enum = documented[declared.path]
        assert description.startswith(declared.help), declared.path  # drf-spectacular appends the choices
        if declared.choices:
            assert set(enum) == set(declared.values), declared.path


def test_every_wizard_field_is_a_schema_field_with_its_label():
    step_forms = [forms.BasicsForm, forms.ModelServingForm, forms.ComputeForm, forms.ScalingForm, forms.BatchForm,
                  forms.AccessForm]
    asked = set()
    for form_class in step_forms:
        for name, field in form_class.base_fields.items():
            declared = spec_field(forms.path_of(name))
            asked.add(declared.path)
            assert field.label == declared.label, declared.path
            if declared.choices and hasattr(field, "choices"):
                offered = {value for value, _label in field.choices if value}
                assert offered <= set(declared.values), declared.path
    # The wizard asks for everything a person chooses; the rest is recommended or has a default.
    unasked = {f.path for f in FIELDS} - asked
    assert unasked == {"runtime.timeout_seconds", "runtime.startup_timeout_seconds", "storage.pvc_size_gi",
                       "storage.endpoint", "compute.cpu", "compute.memory_gi"}


def test_sections_required_by_the_schema_are_required_by_the_validator():
    for section in SECTIONS_DECLARED:
        spec = online_spec()
        spec.pop(section.name, None)
        errors = {e.field.split(".")[0] for e in validate(spec).errors if e.field}
        assert (section.name in errors) == section.required, section.name
