"""Batch objects: the Argo Workflow of a run, the CronWorkflow of a scheduled batch, and the names of runs. Pure."""

from clusters.labels import RUN_LABEL

from .pods import MODEL_CONTAINERS, gantry_labels, model_volume, node_affinity, object_metadata, pod_container


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
    container = pod_container(spec, MODEL_CONTAINERS["argo"], env_extra=shard_env, with_port=False)
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
    volumes = model_volume(spec, container)
    run_template = {"name": "run", "steps": [[{
        "name": "shard",
        "template": "shard",
        "arguments": {"parameters": [{"name": "shard-index", "value": "{{item}}"}]},
        "withSequence": {"count": str(shards)},
    }]]}
    workflow_spec = {
        "activeDeadlineSeconds": batch["timeout_minutes"] * 60,
        "affinity": node_affinity(spec),
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
        "metadata": object_metadata(spec, spec["name"], revision),
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
        "metadata": object_metadata(spec, spec["name"], revision),
        "spec": cron,
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
