"""The Argo Workflows controller, simulated: shard pods run to Succeeded (or Failed
with the `sandbox.gantry.io/fail: "true"` annotation) and the workflow's phase,
progress, startedAt and finishedAt follow. Times are simulated seconds.
"""

from .errors import ApiError
from .sim_pods import PODS, duration_seconds, event_emit, pod_create, pod_set_phase
from .store import now_iso

FAIL_ANNOTATION = "sandbox.gantry.io/fail"
SHARD_ANNOTATION = "sandbox.gantry.io/shard"
SHARD_SECONDS_ANNOTATION = "sandbox.gantry.io/shard-seconds"
DEFAULT_SHARD_SECONDS = 60.0
STARTUP_SECONDS = 10.0


def _fan_out(step):
    if "withSequence" in step:
        seq = step["withSequence"]
        if "count" in seq:
            return max(int(seq["count"]), 0)
        return max(int(seq.get("end", 0)) - int(seq.get("start", 0)) + 1, 0)
    if "withItems" in step:
        return len(step["withItems"])
    return 1


def workflow_shards(spec):
    """[(template dict, index)] for each pod the entrypoint fans out to."""
    templates = {t.get("name"): t for t in spec.get("templates") or []}
    entry = templates.get(spec.get("entrypoint")) or next(iter(templates.values()), {})
    steps = [s for group in entry.get("steps") or [] for s in group]
    steps += (entry.get("dag") or {}).get("tasks") or []
    if not steps:
        return [(entry, 0)]
    shards = []
    for step in steps:
        template = templates.get(step.get("template"), entry)
        shards += [(template, i) for i in range(_fan_out(step))]
    return shards


class WorkflowState:
    def __init__(self, now):
        self.created = now
        self.pod_started = {}  # pod name -> simulated creation time
        self.done = False


def workflow_reconcile(store, rt, obj, state, now):
    if state.done:
        return
    meta, spec = obj["metadata"], obj.get("spec") or {}
    annotations = meta.get("annotations") or {}
    fail = annotations.get(FAIL_ANNOTATION, "").lower() == "true"
    duration = duration_seconds(annotations.get(SHARD_SECONDS_ANNOTATION), DEFAULT_SHARD_SECONDS)
    shards = workflow_shards(spec)
    parallelism = int(spec.get("parallelism") or len(shards)) or 1
    pods = {(p["metadata"].get("annotations") or {}).get(SHARD_ANNOTATION, ""): p
            for p in store.objects(PODS, meta["namespace"])
            if any(o.get("uid") == meta["uid"] for o in p["metadata"].get("ownerReferences") or [])}
    status = dict(obj.get("status") or {})
    if not status.get("startedAt"):
        status.update(phase="Running", startedAt=now_iso())
        event_emit(store, obj, reason="WorkflowRunning", message="Workflow Running", component="workflow-controller")

    done = failed = 0
    for key, pod in pods.items():
        phase = pod.get("status", {}).get("phase")
        age = now - state.pod_started.setdefault(pod["metadata"]["name"], now)
        if phase == "Pending" and age >= STARTUP_SECONDS:
            phase = "Running"
            pod_set_phase(store, pod, phase)
        if phase == "Running" and age >= STARTUP_SECONDS + duration:
            phase = "Failed" if fail and key == "0" else "Succeeded"
            pod_set_phase(store, pod, phase, message="shard failed (sandbox fail knob)" if phase == "Failed" else "")
        done += phase == "Succeeded"
        failed += phase == "Failed"
    running = len(pods) - done - failed
    labels = {**((spec.get("podMetadata") or {}).get("labels") or {}), "workflows.argoproj.io/workflow": meta["name"]}
    for index, (template, _) in enumerate(shards):
        if failed or running >= parallelism:
            break
        if str(index) in pods:
            continue
        template_labels = (template.get("metadata") or {}).get("labels") or {}
        container = dict(template.get("container") or {"image": "busybox"}, name="main")
        pod = pod_create(store, obj, name_prefix=f"{meta['name']}-{template.get('name', 'shard')}",
                         labels={**template_labels, **labels}, containers=[container],
                         extra_spec={"restartPolicy": "Never"}, annotations={SHARD_ANNOTATION: str(index)})
        state.pod_started[pod["metadata"]["name"]] = now
        running += 1

    status["progress"] = f"{done}/{len(shards)}"
    if failed:
        status.update(phase="Failed", finishedAt=now_iso(), message="child shard failed")
    elif done == len(shards):
        status.update(phase="Succeeded", finishedAt=now_iso())
    if status.get("phase") in ("Succeeded", "Failed"):
        state.done = True
        event_emit(store, obj, reason=f"Workflow{status['phase']}", message=f"Workflow {status['phase'].lower()}",
                   type_="Normal" if status["phase"] == "Succeeded" else "Warning", component="workflow-controller")
    try:
        store.replace(rt, meta["namespace"], meta["name"], {"status": status}, subresource="status")
    except ApiError as exc:
        if exc.code != 404:  # deleted meanwhile is fine; anything else is a simulator bug to log
            raise

