"""Completed spec -> Kubernetes objects. Pure functions: no database, no network.

The same completed spec always renders the same objects (dict keys and lists
in a fixed order), so a re-push changes nothing and drift is a plain diff.
Annotation and Argo parameter values are strings, as the API server wants.
"""

from clusters.labels import (
    DEPLOYMENT_LABEL,
    RUN_LABEL,
    MANAGED_BY,
    MANAGED_BY_LABEL,
    REVISION_ANNOTATION,
    TEAM_LABEL,
    namespace_for,
)

from .cpu import CPU_NODE_FAMILIES, CPU_NODE_LABEL, on_cpu
from .formats import split_uri
from .runtimes import (
    CUSTOM,
    MODEL_MOUNT,
    container_fields,
    endpoint_env,
    model_location,
    probes,
    runtime_kind,
    s3_endpoint,
    streams_from_s3,
)
from .traffic import rollout_apply

AUTOSCALER_CLASS = "kpa.autoscaling.knative.dev"


def manifests_render(spec, *, revision=None, rollout=None):
    """The objects for one completed spec: an optional PVC, then the Service, InferenceService or Workflow.

    `rollout` (specs/traffic.py): the canary state of an online revision; None renders no traffic block.
    """
    objects = []
    if (spec.get("storage") or {}).get("tier") == "nvme-pvc":
        objects.append(pvc_render(spec, revision=revision))
    if spec["workload"] == "batch":
        objects.append(workflow_render(spec, revision=revision))
    elif spec.get("target") == "kserve":
        account = storage_account_render(spec, revision=revision)
        if account:
            objects.append(account)
        objects.append(inference_service_render(spec, revision=revision, service_account=bool(account),
                                                rollout=rollout))
    else:
        objects.append(knative_service_render(spec, revision=revision, rollout=rollout))
    return objects


def gantry_labels(spec):
    return {
        MANAGED_BY_LABEL: MANAGED_BY,
        DEPLOYMENT_LABEL: spec["name"],
        TEAM_LABEL: spec["team"],
    }


def _metadata(spec, name, revision, labels=None):
    meta = {"name": name, "namespace": namespace_for(spec["team"]), "labels": {**gantry_labels(spec), **(labels or {})}}
    if revision is not None:
        meta["annotations"] = {REVISION_ANNOTATION: str(revision)}
    return meta


def _model_claim(spec):
    scheme, claim, path = split_uri(spec["model"]["uri"])
    return (claim, path) if scheme == "pvc" else (None, None)


def _affinity(spec):
    """The GPU class (or, on CPU nodes, the CPU families of specs/cpu.py) and the region, both required."""
    compute = spec["compute"]
    if on_cpu(spec):
        node = {"key": CPU_NODE_LABEL, "operator": "In", "values": list(CPU_NODE_FAMILIES)}
    else:
        node = {"key": "gpu.nvidia.com/class", "operator": "In", "values": [compute["gpu_class"]]}
    return {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{
        "matchExpressions": [
            node,
            {"key": "topology.kubernetes.io/region", "operator": "In", "values": [compute["region"]]},
        ]}]}}}


def _resources(spec):
    """Requests equal to limits; a CPU pod requests no GPU (CoreWeave schedules it on CPU nodes)."""
    compute = spec["compute"]
    amounts = {
        "cpu": _quantity(compute["cpu"]),
        "memory": f"{compute['memory_gi']}Gi",
    }
    if not on_cpu(spec):
        amounts["nvidia.com/gpu"] = str(compute["gpus_per_replica"])
    return {"limits": dict(amounts), "requests": dict(amounts)}


def _quantity(cpu):
    return str(int(cpu)) if float(cpu).is_integer() else f"{int(round(cpu * 1000))}m"


def _env(spec, extra=()):
    """Plain values, model settings, then secretKeyRef entries: never a secret value.

    MODEL_* and TENSORIZER_* are Gantry's own names for custom images; vLLM, TGI and Triton get
    what they read on their command line instead (specs/runtimes.py).
    """
    runtime, model = spec["runtime"], spec["model"]
    location = model_location(spec, downloaded=False)
    env = [{"name": k, "value": v} for k, v in sorted((runtime.get("env") or {}).items())]
    if runtime_kind(spec) != CUSTOM:
        return env + list(extra) + _secret_env(runtime)
    env.append({"name": "MODEL_URI", "value": location})
    env.append({"name": "MODEL_FORMAT", "value": model["format"]})
    env.append({"name": "MODEL_PRECISION", "value": model["precision"]})
    if model["format"] == "tensorizer":
        # Tensorizer streams the weights straight from the URI to the GPU; no copy to local disk first.
        env.append({"name": "TENSORIZER_URI", "value": location})
        env.append({"name": "TENSORIZER_NUM_READERS", "value": str(4 * (spec["compute"].get("gpus_per_replica") or 1))})
    env.extend(endpoint_env(spec))
    env.extend(extra)
    return env + _secret_env(runtime)


def _secret_env(runtime):
    out = []
    for name, ref in sorted((runtime.get("secret_env") or {}).items()):
        secret, key = ref.split("/", 1)
        out.append({"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}})
    return out


def _env_from(spec):
    secret = (spec.get("storage") or {}).get("credentials_secret")
    return [{"secretRef": {"name": secret}}] if secret else []


def _container(spec, name, *, env_extra=(), with_port=True, downloaded=False):
    """The model container; `downloaded`: KServe's storage initializer put the model at /mnt/models."""
    runtime = spec["runtime"]
    container = {"name": name, "image": runtime["image"]}
    served = container_fields(spec, downloaded=downloaded)
    command = served.get("command", runtime.get("command"))
    if command:
        container["command"] = list(command)
    args = served.get("args", runtime.get("args"))
    if args:
        container["args"] = list(args)
    container["env"] = _env(spec, [*env_extra, *served.get("env", [])])
    env_from = _env_from(spec)
    if env_from:
        container["envFrom"] = env_from
    if with_port:
        port_name = "h2c" if runtime.get("protocol") == "grpc" else "http1"
        container["ports"] = [{"containerPort": runtime["port"], "name": port_name, "protocol": "TCP"}]
        container.update(probes(spec) or {"readinessProbe": {"tcpSocket": {"port": runtime["port"]}, "periodSeconds": 5}})
    container["resources"] = _resources(spec)
    return container


def _pvc_volume(spec, container):
    claim, _ = _model_claim(spec)
    if not claim:
        return []
    container["volumeMounts"] = [{"name": "model", "mountPath": MODEL_MOUNT, "readOnly": True}]
    return [{"name": "model", "persistentVolumeClaim": {"claimName": claim, "readOnly": True}}]


def _autoscaling_annotations(spec):
    scaling = spec["scaling"]
    annotations = {
        "autoscaling.knative.dev/class": AUTOSCALER_CLASS,
        "autoscaling.knative.dev/metric": "concurrency",
        "autoscaling.knative.dev/target": str(scaling["target_concurrency"]),
        "autoscaling.knative.dev/target-utilization-percentage": str(scaling["target_utilization_percent"]),
        "autoscaling.knative.dev/min-scale": str(scaling["min_replicas"]),
        "autoscaling.knative.dev/max-scale": str(scaling["max_replicas"]),
    }
    if scaling.get("scale_to_zero_retention") and scaling["min_replicas"] == 0:
        annotations["autoscaling.knative.dev/scale-to-zero-pod-retention-period"] = scaling["scale_to_zero_retention"]
    return annotations


def _container_concurrency(spec):
    """With server-side batching a pod takes one batch at a time; otherwise Knative's soft target rules."""
    batching = spec.get("batching") or {}
    return batching.get("max_batch_size", 0)


def knative_service_render(spec, *, revision=None, rollout=None):
    visibility = {}
    if spec["access"]["visibility"] == "cluster-local":
        visibility["networking.knative.dev/visibility"] = "cluster-local"
    container = _container(spec, "model")
    volumes = _pvc_volume(spec, container)
    pod_spec = {
        "affinity": _affinity(spec),
        "containerConcurrency": _container_concurrency(spec),
        "containers": [container],
        "timeoutSeconds": spec["runtime"].get("timeout_seconds", 300),
    }
    if volumes:
        pod_spec["volumes"] = volumes
    return rollout_apply({
        "apiVersion": "serving.knative.dev/v1",
        "kind": "Service",
        "metadata": _metadata(spec, spec["name"], revision, visibility),
        "spec": {"template": {
            "metadata": {"annotations": _autoscaling_annotations(spec), "labels": gantry_labels(spec)},
            "spec": pod_spec,
        }},
    }, rollout, revision=revision)


def storage_account_name(spec):
    return f"{spec['name']}-models"


def storage_account_render(spec, *, revision=None):
    """The service account KServe's storage initializer reads S3 settings from, or None when nothing is fetched.

    KServe (docs "Deploy InferenceService with a saved model on S3", v0.16) reads the `serving.kserve.io/s3-*`
    annotations on the predictor's service account, and the credentials from the Secrets it lists, and
    injects them into the storage initializer. The Secret holds AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.
    """
    if not spec["model"]["uri"].startswith("s3://") or streams_from_s3(spec):
        return None
    endpoint, secret = s3_endpoint(spec), (spec.get("storage") or {}).get("credentials_secret")
    if not (endpoint or secret):
        return None
    account = {"apiVersion": "v1", "kind": "ServiceAccount",
               "metadata": _metadata(spec, storage_account_name(spec), revision)}
    if endpoint:
        scheme, _, host = endpoint.partition("://")
        account["metadata"].setdefault("annotations", {}).update({
            "serving.kserve.io/s3-endpoint": host,
            "serving.kserve.io/s3-usehttps": "1" if scheme == "https" else "0",
        })
    if secret:
        account["secrets"] = [{"name": secret}]
    return account


def inference_service_render(spec, *, revision=None, service_account=False, rollout=None):
    scaling = spec["scaling"]
    visibility = {}
    if spec["access"]["visibility"] == "cluster-local":
        visibility["networking.kserve.io/visibility"] = "cluster-local"
    metadata = _metadata(spec, spec["name"], revision, visibility)
    # KServe passes these through to the Knative revision it creates.
    metadata["annotations"] = {**metadata.get("annotations", {}), **{
        k: v for k, v in _autoscaling_annotations(spec).items()
        if k.endswith(("/class", "/target-utilization-percentage", "/scale-to-zero-pod-retention-period"))
    }}
    predictor = {
        "affinity": _affinity(spec),
        "containerConcurrency": _container_concurrency(spec),
        "containers": [_container(spec, "kserve-container", downloaded=True)],
        "labels": gantry_labels(spec),
        "maxReplicas": scaling["max_replicas"],
        "minReplicas": scaling["min_replicas"],
        "scaleMetric": "concurrency",
        "scaleTarget": scaling["target_concurrency"],
        "timeout": spec["runtime"].get("timeout_seconds", 300),
    }
    if service_account:
        predictor["serviceAccountName"] = storage_account_name(spec)
    if not streams_from_s3(spec):
        # The storage initializer fetches s3:// or mounts pvc:// at /mnt/models before the server starts
        # (not when vLLM streams Tensorizer weights from S3 itself: the model would be read twice).
        predictor["storageUris"] = [{"mountPath": MODEL_MOUNT, "uri": spec["model"]["uri"]}]
    batching = spec.get("batching")
    if batching:
        predictor["batcher"] = {"maxBatchSize": batching["max_batch_size"], "maxLatency": batching["max_latency_ms"]}
    return rollout_apply({
        "apiVersion": "serving.kserve.io/v1beta1",
        "kind": "InferenceService",
        "metadata": metadata,
        "spec": {"predictor": predictor},
    }, rollout, revision=revision)


def workflow_render(spec, *, revision=None):
    batch = spec["batch"]
    shards = batch["parallelism"]
    parameters = {
        "inputs-uri": batch["inputs_uri"],
        "model-uri": spec["model"]["uri"],
        "outputs-uri": batch["outputs_uri"],
        "shard-count": str(shards),
    }
    shard_env = [
        {"name": "INPUTS_URI", "value": "{{workflow.parameters.inputs-uri}}"},
        {"name": "OUTPUTS_URI", "value": "{{workflow.parameters.outputs-uri}}"},
        {"name": "SHARD_INDEX", "value": "{{inputs.parameters.shard-index}}"},
        {"name": "SHARD_COUNT", "value": "{{workflow.parameters.shard-count}}"},
    ]
    container = _container(spec, "main", env_extra=shard_env, with_port=False)
    shard_template = {
        "name": "shard",
        "inputs": {"parameters": [{"name": "shard-index"}]},
        "retryStrategy": {
            "limit": str(batch["retries"]),
            "retryPolicy": "Always",
            "backoff": {"duration": "30s", "factor": "2", "maxDuration": "10m"},
        },
        "container": container,
    }
    volumes = _pvc_volume(spec, container)
    run_template = {"name": "run", "steps": [[{
        "name": "shard",
        "template": "shard",
        "arguments": {"parameters": [{"name": "shard-index", "value": "{{item}}"}]},
        "withSequence": {"count": str(shards)},
    }]]}
    workflow_spec = {
        "activeDeadlineSeconds": batch["timeout_minutes"] * 60,
        "affinity": _affinity(spec),
        "arguments": {"parameters": [{"name": k, "value": v} for k, v in sorted(parameters.items())]},
        "entrypoint": "run",
        "parallelism": shards,
        "podGC": {"strategy": "OnPodSuccess"},
        "podMetadata": {"labels": gantry_labels(spec)},
        "templates": [run_template, shard_template],
        "ttlStrategy": {"secondsAfterSuccess": 86400, "secondsAfterFailure": 7 * 86400},
    }
    if volumes:
        workflow_spec["volumes"] = volumes
    if batch.get("schedule"):
        return cron_workflow_render(spec, workflow_spec, revision=revision)
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": _metadata(spec, spec["name"], revision),
        "spec": workflow_spec,
    }


def cron_workflow_render(spec, workflow_spec, *, revision=None):
    """A scheduled batch run: Argo creates one Workflow per tick (<name>-<time>), labelled like ours.

    Fields from Argo v3.6+ (argoproj.io_cronworkflows.yaml; docs "Cron Workflows"): `schedules` (a list),
    `timezone`, `concurrencyPolicy: Forbid` (a tick while a run is still going is skipped: two runs would
    write the same outputs), history limits for finished runs, and `workflowMetadata` on each child.
    """
    batch = spec["batch"]
    cron = {
        "concurrencyPolicy": "Forbid",
        "failedJobsHistoryLimit": 5,
        "schedules": [batch["schedule"].strip()],
        "successfulJobsHistoryLimit": 5,
        "workflowMetadata": {"labels": gantry_labels(spec)},
        "workflowSpec": workflow_spec,
    }
    if batch.get("timezone"):
        cron["timezone"] = batch["timezone"]
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "CronWorkflow",
        "metadata": _metadata(spec, spec["name"], revision),
        "spec": cron,
    }


def pvc_render(spec, *, revision=None):
    """The model volume, in the pods' region; shared (ReadWriteMany) when several pods read it."""
    claim, _ = _model_claim(spec)
    region = spec["compute"]["region"].lower()
    pods = spec["batch"]["parallelism"] if spec["workload"] == "batch" else spec["scaling"]["max_replicas"]
    shared = pods > 1
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": _metadata(spec, claim, revision),
        "spec": {
            "accessModes": ["ReadWriteMany" if shared else "ReadWriteOnce"],
            "resources": {"requests": {"storage": f"{spec['storage']['pvc_size_gi']}Gi"}},
            "storageClassName": f"{'shared' if shared else 'block'}-nvme-{region}",
        },
    }


def run_workflow_name(name, run):
    return f"{name}-run-{run}"


def workflow_for_run(workflow, run):
    """The Workflow of one run of a batch deployment: its own name and a run label on it and its pods.

    Each run is a new Workflow, so a second run starts fresh (applying the same name again would only
    return the first run's result) and Argo's ttlStrategy removes old runs on its own.
    """
    labels = {RUN_LABEL: str(run)}
    meta = workflow["metadata"]
    spec = workflow["spec"]
    pod_meta = spec.get("podMetadata") or {}
    return {
        **workflow,
        "metadata": {**meta, "name": run_workflow_name(meta["name"], run), "labels": {**meta.get("labels", {}), **labels}},
        "spec": {**spec, "podMetadata": {**pod_meta, "labels": {**pod_meta.get("labels", {}), **labels}}},
    }
