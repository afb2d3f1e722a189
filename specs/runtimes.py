"""What each serving runtime really reads: its command line, its S3 variables and its health endpoints.

Pure: a completed spec in, container fields out. Each fact names where it comes from.

- vLLM (image vllm/vllm-openai, whose entrypoint is `vllm serve`: docker/Dockerfile, vllm-project/vllm
  main, 2026): the model is the first positional argument; `--port` (default 8000),
  `--tensor-parallel-size`, `--served-model-name`, `--max-model-len` (vllm/entrypoints/launchers/cli_args.py,
  engine/arg_utils.py). Tensorizer: `--load-format tensorizer`
  with `--model-loader-extra-config '{"tensorizer_uri": ...}'` (docs/models/extensions/tensorizer.md).
  Tensorizer reads S3 credentials from S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY and S3_ENDPOINT_URL, not
  AWS_* (TensorizerArgs, vllm/model_executor/model_loader/tensorizer.py). `GET /health` answers 200 once
  the engine runs (vllm/entrypoints/serve/instrumentator/health.py).
- TGI (ghcr.io/huggingface/text-generation-inference v3.3.7, entrypoint text-generation-launcher):
  `--model-id`, `--num-shard`, `--port`, `--hostname`, `--max-total-tokens`
  (docs/source/reference/launcher.md); Kubernetes
  sets HOSTNAME to the pod name, so 0.0.0.0 is passed explicitly; `GET /health` once the shards load.
- Triton (triton-inference-server/server v2.71.0): `tritonserver --model-repository=<path or s3://>`
  and `--http-port` (src/command_line_parser.cc); S3 credentials from AWS_* variables
  (docs/user_guide/model_repository.md); `/v2/health/ready` (all models loaded, strict readiness by
  default) and `/v2/health/live` (src/http_server.cc).
- Object storage endpoints: the AWS SDKs and CLI read AWS_ENDPOINT_URL (AWS SDKs and Tools reference guide,
  "Service-specific endpoints", 2023+); Triton takes a non-AWS endpoint inside the repository path,
  `s3://https://host:port/bucket/path` (docs/user_guide/model_repository.md, "S3"); Tensorizer reads
  S3_ENDPOINT_URL. In Kubernetes an `env` entry wins over the same name from `envFrom` (core/v1 Container.envFrom).
- Knative Serving accepts startupProbe from v1.15 (knative/serving PR #15309); a readiness probe with a
  periodSeconds keeps its failureThreshold (docs/serving/services/configure-probing.md).
"""

import json
import posixpath

from .formats import split_uri

MODEL_MOUNT = "/mnt/models"
VLLM, TGI, TRITON, CUSTOM = "vllm", "tgi", "triton", "custom"
# The image each runtime gets when the spec names none: a pinned release its project documents.
# vLLM: "FROM vllm/vllm-openai:v0.11.0" (docs/deployment/docker.md, vllm main, 2026); TGI: the quick tour's
# ghcr.io/huggingface/text-generation-inference:3.3.5 (huggingface.co/docs/text-generation-inference/quicktour);
# Triton: NGC tags are <yy.mm>-py3, release 25.10 (docs.nvidia.com Triton release notes, "Pulling A Container").
DEFAULT_IMAGES = {
    VLLM: "vllm/vllm-openai:v0.11.0",
    TGI: "ghcr.io/huggingface/text-generation-inference:3.3.5",
    TRITON: "nvcr.io/nvidia/tritonserver:25.10-py3",
}
# Knative's per-replica target when the spec gives none. vLLM and TGI batch continuously: one replica serves many
# requests at once (TGI queues up to --max-concurrent-requests, 128 by default: docs/source/reference/launcher.md).
# 32 adds a replica well before that queue fills; other servers take one request at a time unless they batch.
CONTINUOUS_BATCHING = (VLLM, TGI)
CONTINUOUS_BATCHING_TARGET = 32
HEALTH = {VLLM: ("/health", "/health"), TGI: ("/health", "/health"), TRITON: ("/v2/health/ready", "/v2/health/live")}
PROBE_PERIOD_SECONDS = 10
# The storage Secret's keys, as KServe and the AWS tools name them; vLLM's Tensorizer wants other names.
SECRET_KEYS = {"S3_ACCESS_KEY_ID": "AWS_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY": "AWS_SECRET_ACCESS_KEY",
               "S3_ENDPOINT_URL": "AWS_ENDPOINT_URL"}


def runtime_kind(spec):
    return (spec.get("runtime") or {}).get("kind") or CUSTOM


def model_location(spec, *, downloaded):
    """Where the server finds the weights: the volume mount, KServe's download, or the s3:// URI itself."""
    uri = spec["model"]["uri"]
    scheme, _claim, path = split_uri(uri)
    if scheme == "pvc":
        return f"{MODEL_MOUNT}/{path}"
    return MODEL_MOUNT if downloaded else uri


def _model_dir(location):
    """The directory holding the model's config: the location itself, or its parent for a single file."""
    base = posixpath.basename(location.rstrip("/"))
    return posixpath.dirname(location.rstrip("/")) if "." in base else location.rstrip("/")


def default_target_concurrency(spec):
    """(target, why) for Knative's autoscaler when the spec leaves scaling.target_concurrency out."""
    batch_size = (spec.get("batching") or {}).get("max_batch_size")
    if batch_size:
        return batch_size, f"one batch of {batch_size} requests per replica (server-side batching)"
    kind = runtime_kind(spec)
    if kind in CONTINUOUS_BATCHING:
        sequences = (spec.get("serving") or {}).get("max_concurrent_sequences") or 0
        target = max(CONTINUOUS_BATCHING_TARGET, sequences)
        return target, (f"continuous batching in {'vLLM' if kind == VLLM else 'TGI'} lets one replica serve many "
                        f"requests at once: Knative adds a replica above {target} requests in flight, long before "
                        "the server's own queue fills")
    return 1, "one request at a time per replica: a server that does not batch answers the next one after this"


def s3_endpoint(spec):
    """The object storage endpoint the pods read the model from, or None (a pvc:// model, or none known)."""
    if not spec["model"]["uri"].startswith("s3://"):
        return None
    return ((spec.get("storage") or {}).get("endpoint") or "").rstrip("/") or None


def streams_from_s3(spec):
    """vLLM streams Tensorizer weights straight from S3: nothing needs downloading first."""
    return (runtime_kind(spec) == VLLM and spec["model"].get("format") == "tensorizer"
            and spec["model"]["uri"].startswith("s3://"))


def container_fields(spec, *, downloaded):
    """{"command"?, "args"?, "env"?} for the runtime; {} for a custom image (its own args are used)."""
    kind, runtime = runtime_kind(spec), spec["runtime"]
    gpus = spec["compute"].get("gpus_per_replica") or 1  # CPU nodes (compute.accelerator: cpu) have none
    port = str(runtime["port"])
    location = model_location(spec, downloaded=downloaded and not streams_from_s3(spec))
    context = (spec.get("serving") or {}).get("max_context_tokens")
    if kind == VLLM:
        args = [_model_dir(location), "--port", port, "--tensor-parallel-size", str(gpus),
                "--served-model-name", spec["name"]]
        if context:
            args += ["--max-model-len", str(context)]
        env = []
        if spec["model"].get("format") == "tensorizer":
            config = {"tensorizer_uri": location, "num_readers": 4 * gpus}
            args += ["--load-format", "tensorizer", "--model-loader-extra-config",
                     json.dumps(config, sort_keys=True, separators=(",", ":"))]
            env = _tensorizer_credentials(spec)
        return {"args": args + list(runtime.get("args") or []), "env": env}
    if kind == TGI:
        args = ["--model-id", _model_dir(location), "--num-shard", str(gpus), "--port", port, "--hostname", "0.0.0.0"]
        if context:
            args += ["--max-total-tokens", str(context)]
        return {"args": args + list(runtime.get("args") or [])}
    if kind == TRITON:
        repository = _triton_repository(location, s3_endpoint(spec)) if location.startswith("s3://") else (
            _model_dir(location))
        args = [f"--model-repository={repository}", f"--http-port={port}"]
        return {"command": ["tritonserver"], "args": args + list(runtime.get("args") or [])}
    return {}


def endpoint_env(spec):
    """AWS_ENDPOINT_URL for a custom image reading s3:// with an AWS SDK.

    The others get the endpoint the way they read it (Tensorizer's S3_ENDPOINT_URL, Triton's repository path),
    or read a model KServe's storage initializer downloaded (the endpoint is on its service account).
    """
    endpoint = s3_endpoint(spec)
    if endpoint is None or runtime_kind(spec) != CUSTOM:
        return []
    return [{"name": "AWS_ENDPOINT_URL", "value": endpoint}]


def _triton_repository(uri, endpoint):
    """s3://bucket/path, or s3://https://host:443/bucket/path for an endpoint other than AWS's."""
    if not endpoint:
        return uri
    scheme, _, hostport = endpoint.partition("://")
    if ":" not in hostport:
        hostport += ":443" if scheme == "https" else ":80"
    return f"s3://{scheme}://{hostport}/{uri[len('s3://'):]}"


def _tensorizer_credentials(spec):
    secret = (spec.get("storage") or {}).get("credentials_secret")
    if not spec["model"]["uri"].startswith("s3://"):
        return []
    endpoint = s3_endpoint(spec)
    env = []
    for name, key in SECRET_KEYS.items():
        if name == "S3_ENDPOINT_URL" and endpoint:
            env.append({"name": name, "value": endpoint})  # the tier's endpoint (catalog), not the Secret's
        elif secret:
            env.append({"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": key, "optional": True}}})
    return env


def probes(spec):
    """Readiness, liveness and startup probes on the server's health endpoint; None: a TCP check (custom)."""
    kind, runtime = runtime_kind(spec), spec["runtime"]
    ready, live = HEALTH.get(kind) or ((runtime["health_path"],) * 2 if runtime.get("health_path") else (None, None))
    if ready is None:
        return None
    port = runtime["port"]
    startup = runtime.get("startup_timeout_seconds") or 600
    return {
        "readinessProbe": {"httpGet": {"path": ready, "port": port}, "periodSeconds": 5},
        "livenessProbe": {"httpGet": {"path": live, "port": port}, "periodSeconds": PROBE_PERIOD_SECONDS},
        # Loading the weights takes minutes for large models: the startup probe holds liveness off until then.
        "startupProbe": {"httpGet": {"path": live, "port": port}, "periodSeconds": PROBE_PERIOD_SECONDS,
                         "failureThreshold": max(1, -(-startup // PROBE_PERIOD_SECONDS))},
    }
