"""The Argo Workflows controller, simulated: shard pods run to Succeeded (or Failed
with the `sandbox.gantry.io/fail: "true"` annotation) and the workflow's phase,
progress, startedAt and finishedAt follow. Times are simulated seconds.

spec.podGC and spec.ttlStrategy are honoured as Argo v3.5+ documents them
(docs/fields.md PodGC: strategy OnPodCompletion | OnPodSuccess | OnWorkflowCompletion |
OnWorkflowSuccess, deleteDelayDuration, labelSelector.matchLabels; TTLStrategy:
secondsAfterCompletion | secondsAfterSuccess | secondsAfterFailure delete the Workflow).
"""

from .errors import ApiError
from .selectors import labels_match
from .sim_pods import PODS, duration_seconds, event_emit, pod_create, pod_delete, pod_set_phase
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
        self.pod_finished = {}  # pod name -> simulated time it succeeded or failed
        self.shard_phase = {}  # shard index -> final phase, kept after podGC deletes the pod
        self.done = False
        self.finished_at = None


def _pod_gc(store, spec, pods, state, now, workflow_phase):
    gc = spec.get("podGC") or {}
    strategy = gc.get("strategy")
    if not strategy:
        return
    delay = duration_seconds(gc.get("deleteDelayDuration"), 0.0)
    match = [(k, "in", {v}) for k, v in ((gc.get("labelSelector") or {}).get("matchLabels") or {}).items()]
    for pod in pods:
        phase = pod.get("status", {}).get("phase")
        finished = state.pod_finished.get(pod["metadata"]["name"])
        if finished is None or now - finished < delay or not labels_match(match, pod["metadata"].get("labels")):
            continue
        if (strategy == "OnPodCompletion" or (strategy == "OnPodSuccess" and phase == "Succeeded")
                or (strategy == "OnWorkflowCompletion" and workflow_phase in ("Succeeded", "Failed"))
                or (strategy == "OnWorkflowSuccess" and workflow_phase == "Succeeded")):
            pod_delete(store, pod)


def _ttl_expired(spec, phase, finished_at, now):
    ttl = spec.get("ttlStrategy") or {}
    seconds = ttl.get("secondsAfterSuccess" if phase == "Succeeded" else "secondsAfterFailure")
    if seconds is None:
        seconds = ttl.get("secondsAfterCompletion")
    return seconds is not None and now - finished_at >= float(seconds)


def _owned_pods(store, meta):
    return [p for p in store.objects(PODS, meta["namespace"])
            if any(o.get("uid") == meta["uid"] for o in p["metadata"].get("ownerReferences") or [])]


def workflow_reconcile(store, rt, obj, state, now):
    meta, spec = obj["metadata"], obj.get("spec") or {}
    if state.done:
        phase = (obj.get("status") or {}).get("phase")
        _pod_gc(store, spec, _owned_pods(store, meta), state, now, phase)
        if _ttl_expired(spec, phase, state.finished_at, now):
            try:
                store.delete(rt, meta["namespace"], meta["name"])
            except ApiError:
                pass
        return
    annotations = meta.get("annotations") or {}
    fail = annotations.get(FAIL_ANNOTATION, "").lower() == "true"
    duration = duration_seconds(annotations.get(SHARD_SECONDS_ANNOTATION), DEFAULT_SHARD_SECONDS)
    shards = workflow_shards(spec)
    parallelism = int(spec.get("parallelism") or len(shards)) or 1
    pods = {(p["metadata"].get("annotations") or {}).get(SHARD_ANNOTATION, ""): p for p in _owned_pods(store, meta)}
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
        if phase in ("Succeeded", "Failed"):
            state.pod_finished.setdefault(pod["metadata"]["name"], now)
            state.shard_phase[key] = phase
    done = sum(p == "Succeeded" for p in state.shard_phase.values())
    failed = sum(p == "Failed" for p in state.shard_phase.values())
    running = sum(1 for key in pods if key not in state.shard_phase)
    labels = {**((spec.get("podMetadata") or {}).get("labels") or {}), "workflows.argoproj.io/workflow": meta["name"]}
    for index, (template, _) in enumerate(shards):
        if failed or running >= parallelism:
            break
        if str(index) in pods or str(index) in state.shard_phase:
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
        state.done, state.finished_at = True, now
        event_emit(store, obj, reason=f"Workflow{status['phase']}", message=f"Workflow {status['phase'].lower()}",
                   type_="Normal" if status["phase"] == "Succeeded" else "Warning", component="workflow-controller")
    try:
        store.replace(rt, meta["namespace"], meta["name"], {"status": status}, subresource="status")
    except ApiError as exc:
        if exc.code != 404:  # deleted meanwhile is fine; anything else is a simulator bug to log
            raise
    _pod_gc(store, spec, _owned_pods(store, meta), state, now, status.get("phase"))

