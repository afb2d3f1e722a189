"""Completed spec -> Kubernetes objects. Pure functions: no database, no network.

The same completed spec always renders the same objects (dict keys and lists
in a fixed order), so a re-push changes nothing and drift is a plain diff.
Annotation and Argo parameter values are strings, as the API server wants.
"""

from .pods import (
    MODEL_CONTAINERS,
    gantry_labels,
    model_claim,
    model_volume,
    node_affinity,
    object_metadata,
    pod_container,
)
from .render_batch import workflow_render
from .runtimes import MODEL_MOUNT, s3_endpoint, streams_from_s3
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
    container = pod_container(spec, MODEL_CONTAINERS["knative"])
    volumes = model_volume(spec, container)
    pod_spec = {
        "affinity": node_affinity(spec),
        "containerConcurrency": _container_concurrency(spec),
        "containers": [container],
        "timeoutSeconds": spec["runtime"].get("timeout_seconds", 300),
    }
    if volumes:
        pod_spec["volumes"] = volumes
    return rollout_apply({
        "apiVersion": "serving.knative.dev/v1",
        "kind": "Service",
        "metadata": object_metadata(spec, spec["name"], revision, visibility),
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
               "metadata": object_metadata(spec, storage_account_name(spec), revision)}
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
    metadata = object_metadata(spec, spec["name"], revision, visibility)
    # KServe passes these through to the Knative revision it creates.
    metadata["annotations"] = {**metadata.get("annotations", {}), **{
        k: v for k, v in _autoscaling_annotations(spec).items()
        if k.endswith(("/class", "/target-utilization-percentage", "/scale-to-zero-pod-retention-period"))
    }}
    predictor = {
        "affinity": node_affinity(spec),
        "containerConcurrency": _container_concurrency(spec),
        "containers": [pod_container(spec, MODEL_CONTAINERS["kserve"], downloaded=True)],
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


def pvc_render(spec, *, revision=None):
    """The model volume, in the pods' region; shared (ReadWriteMany) when several pods read it."""
    claim, _ = model_claim(spec)
    region = spec["compute"]["region"].lower()
    pods = spec["batch"]["parallelism"] if spec["workload"] == "batch" else spec["scaling"]["max_replicas"]
    shared = pods > 1
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": object_metadata(spec, claim, revision),
        "spec": {
            "accessModes": ["ReadWriteMany" if shared else "ReadWriteOnce"],
            "resources": {"requests": {"storage": f"{spec['storage']['pvc_size_gi']}Gi"}},
            "storageClassName": f"{'shared' if shared else 'block'}-nvme-{region}",
        },
    }

