"""Request examples for the API docs: what Swagger UI's "Try it out" starts from, instead of a body built
from the schema's types ("name": "string") that the validator refuses.

Each one is a body the API accepts for the demo team of `make run` (tests/deployments/test_api_examples.py
posts every example in the schema to its endpoint). They reach the OpenAPI document through
`request_examples_add`, a drf-spectacular postprocessing hook (SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]).
"""

import copy

# The README walk-through's spec: a small online service that scales to zero.
ONLINE_SPEC = {
    "name": "llama-chat", "team": "demo", "workload": "online",
    "runtime": {"image": "ghcr.io/acme/llm-server:1.4"},
    "model": {"uri": "s3://models/llama-3-8b/model.tensors", "parameters_billions": 8,
              "precision": "bf16", "format": "tensorizer"},
    "storage": {"credentials_secret": "s3-creds"},
    "scaling": {"min_replicas": 0, "max_replicas": 2},
}
BATCH_SPEC = {
    "name": "nightly-completions", "team": "demo", "workload": "batch",
    "runtime": {"image": "ghcr.io/acme/batch-infer:2.0"},
    "model": {"uri": "s3://models/llama-3-8b/model.tensors", "parameters_billions": 8,
              "precision": "bf16", "format": "tensorizer"},
    "storage": {"credentials_secret": "s3-creds"},
    "batch": {"inputs_uri": "s3://data/prompts/", "outputs_uri": "s3://data/completions/", "parallelism": 2},
}
SPECS = {
    "online": {"summary": "An online service (Knative, scales to zero)", "value": ONLINE_SPEC},
    "batch": {"summary": "A batch job over a bucket of inputs (Argo Workflow)", "value": BATCH_SPEC},
}

# operationId -> {example name: {summary, value}}; the first one fills "Try it out".
REQUEST_EXAMPLES = {
    "v1_deployments_preview_create": SPECS,
    "v1_deployments_create": SPECS,
    "v1_deployments_partial_update": {
        "scale": {"summary": "Allow up to 4 replicas", "value": {"scaling": {"max_replicas": 4}}},
        "image": {"summary": "A new image tag", "value": {"runtime": {"image": "ghcr.io/acme/llm-server:1.5"}}},
    },
    "v1_deployments_rollback_create": {
        "first": {"summary": "Back to revision 1", "value": {"revision": 1}},
    },
    "v1_deployments_rollout_create": {
        "start": {"summary": "A change as a canary with 20 % of the traffic",
                  "value": {"canary_percent": 20, "spec": {"runtime": {"image": "ghcr.io/acme/llm-server:1.6"}}}},
        "share": {"summary": "Give the canary 50 %", "value": {"canary_percent": 50}},
        "promote": {"summary": "Send all traffic to the canary", "value": {"action": "promote"}},
    },
}


def request_examples_add(result, generator, request, public):
    """drf-spectacular postprocessing hook: put REQUEST_EXAMPLES on their operations' JSON request bodies."""
    for path in result.get("paths", {}).values():
        for operation in path.values():
            examples = REQUEST_EXAMPLES.get(operation.get("operationId")) if isinstance(operation, dict) else None
            body = (operation.get("requestBody") or {}).get("content", {}).get("application/json") if examples else None
            if body is not None:
                body["examples"] = copy.deepcopy(examples)
    return result
