"""Validate objects against the upstream CRD openAPIV3Schema, strictly.

Used by the sandbox API server (422 Invalid, as a real API server answers) and
by the manifest tests. The conversion follows shared/crds/README.md: drop
x-kubernetes-* keys, int-or-string becomes anyOf, nullable adds "null", and
objects with properties reject unknown fields unless the CRD preserves them.
"""

import functools
import os
from pathlib import Path

import jsonschema
import yaml

CRD_FILES = {
    ("serving.knative.dev/v1", "Service"): "knative-serving/service.yaml",
    ("serving.knative.dev/v1", "Configuration"): "knative-serving/configuration.yaml",
    ("serving.knative.dev/v1", "Revision"): "knative-serving/revision.yaml",
    ("serving.knative.dev/v1", "Route"): "knative-serving/route.yaml",
    ("argoproj.io/v1alpha1", "CronWorkflow"): "argo-workflows/argoproj.io_cronworkflows.yaml",
    ("serving.kserve.io/v1beta1", "InferenceService"): "kserve/serving.kserve.io_inferenceservices.yaml",
    ("argoproj.io/v1alpha1", "Workflow"): "argo-workflows/argoproj.io_workflows.yaml",
}


class CrdsMissing(RuntimeError):
    """The upstream CRDs are not where Gantry looks: nothing can be validated against them."""


def crds_dir():
    """../shared/crds next to the project, or CRDS_DIR. Raises CrdsMissing, saying where to put them."""
    explicit = os.environ.get("CRDS_DIR")
    default = Path(__file__).resolve().parent.parent.parent / "shared" / "crds"
    path = Path(explicit) if explicit else default
    missing = [rel for rel in CRD_FILES.values() if not (path / rel).is_file()]
    if missing:
        raise CrdsMissing(
            f"The upstream Knative, KServe and Argo CRDs are missing from {path} ({', '.join(missing)}). "
            f"Put the shared/crds folder next to this checkout (at {default}) or set CRDS_DIR to a folder "
            "that holds them; README.md ('Tests') says where they come from."
        )
    return path


def _to_json_schema(node):
    if isinstance(node, list):
        return [_to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {k: _to_json_schema(v) for k, v in node.items() if not k.startswith("x-kubernetes-") and k != "nullable"}
    if node.get("x-kubernetes-int-or-string") and "anyOf" not in node:
        out.pop("type", None)
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if node.get("nullable") and "type" in out:
        out["type"] = [out["type"], "null"] if isinstance(out["type"], str) else [*out["type"], "null"]
    if node.get("x-kubernetes-embedded-resource"):
        props = out.setdefault("properties", {})
        props.setdefault("apiVersion", {"type": "string"})
        props.setdefault("kind", {"type": "string"})
        props.setdefault("metadata", {"type": "object"})
    if (
        "properties" in out
        and "additionalProperties" not in out
        and not node.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    return out


@functools.cache
def crd_version(api_version, kind):
    """The served version entry of a kind's CRD (schema, printer columns), plus "names"; None if not a CRD."""
    rel = CRD_FILES.get((api_version, kind))
    if rel is None:
        return None
    with open(crds_dir() / rel, encoding="utf-8") as fh:
        crd = yaml.load(fh, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    version = api_version.split("/")[-1]
    for entry in crd["spec"]["versions"]:
        if entry["name"] == version and entry.get("served"):
            return {**entry, "names": crd["spec"]["names"], "scope": crd["spec"]["scope"]}
    return None


@functools.cache
def load_schema(api_version, kind):
    """The strict JSON Schema for a (apiVersion, kind); None for a kind that is not a CRD. CrdsMissing propagates."""
    entry = crd_version(api_version, kind)
    if entry is None:
        return None
    schema = _to_json_schema(entry["schema"]["openAPIV3Schema"])
    # metadata is validated by the API server itself, not by the CRD schema.
    schema.setdefault("properties", {})["metadata"] = {"type": "object"}
    return schema


def validate_object(obj):
    """A list of readable problems ("spec.template.x: message"); empty when valid or not a known CRD."""
    schema = load_schema(obj.get("apiVersion"), obj.get("kind"))
    if schema is None:
        return []
    validator = jsonschema.Draft4Validator(schema)
    problems = []
    for error in sorted(validator.iter_errors(obj), key=lambda e: list(e.absolute_path)):
        path = ".".join(str(p) for p in error.absolute_path) or "<root>"
        problems.append(f"{path}: {error.message}")
    return problems
