"""Pods and Events the simulated controllers write, shaped like the real ones."""

import copy
import random
import re
import string

from .errors import ApiError
from .resources import resource_type
from .store import now_iso

PODS = resource_type("pods")
EVENTS = resource_type("events")
MANAGED_BY = {"app.kubernetes.io/managed-by": "gantry"}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(h|ms|m|s)")
_UNIT_SECONDS = {"h": 3600, "m": 60, "s": 1, "ms": 0.001}


def duration_seconds(text, default):
    """Go-style durations ("1m30s", "30m", "0s") or plain seconds; `default` when absent or unreadable."""
    if text is None or text == "":
        return default
    text = str(text).strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    parts = _DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        return default
    return sum(float(n) * _UNIT_SECONDS[u] for n, u in parts)


def _suffix(length=5):
    return "".join(random.choices(string.ascii_lowercase + string.digits, k=length))


def owner_reference(obj):
    meta = obj["metadata"]
    return {"apiVersion": obj["apiVersion"], "kind": obj["kind"], "name": meta["name"], "uid": meta["uid"],
            "controller": True, "blockOwnerDeletion": True}


def pod_create(store, owner, *, name_prefix, labels, containers, extra_spec=None, annotations=None):
    """A Pending pod owned by `owner`; deleting the owner deletes it."""
    meta = owner["metadata"]
    pod = {
        "metadata": {"generateName": f"{name_prefix}-", "namespace": meta["namespace"],
                     "labels": {**labels, **MANAGED_BY}, "annotations": dict(annotations or {}), "ownerReferences": [owner_reference(owner)]},
        "spec": {"containers": copy.deepcopy(containers) or [{"name": "main", "image": "busybox"}],
                 "restartPolicy": "Always", **(extra_spec or {})},
    }
    for index, container in enumerate(pod["spec"]["containers"]):
        container.setdefault("name", f"container-{index}")
    return store.create(PODS, meta["namespace"], pod)


def pod_set_phase(store, pod, phase, *, message=""):
    """Pending -> Running (Ready) -> Succeeded / Failed, with the conditions kubectl shows."""
    now = now_iso()
    ready = phase == "Running"
    containers = pod["spec"]["containers"]
    if phase in ("Succeeded", "Failed"):
        code = 0 if phase == "Succeeded" else 1
        state = {"terminated": {"exitCode": code, "reason": "Completed" if code == 0 else "Error",
                                "finishedAt": now}}
    elif ready:
        state = {"running": {"startedAt": now}}
    else:
        state = {"waiting": {"reason": "ContainerCreating"}}
    status = {
        "phase": phase,
        "conditions": [{"type": "PodScheduled", "status": "True", "lastTransitionTime": now},
                       {"type": "Ready", "status": "True" if ready else "False", "lastTransitionTime": now}],
        "containerStatuses": [{"name": c["name"], "image": c.get("image", ""), "imageID": "", "ready": ready,
                               "restartCount": 0, "state": state} for c in containers],
        "hostIP": "10.0.0.1", "podIP": f"10.1.{random.randint(0, 255)}.{random.randint(1, 254)}",
    }
    if phase != "Pending":
        status["startTime"] = pod.get("status", {}).get("startTime", now)
    if message:
        status["message"] = message
    try:
        return store.patch(PODS, pod["metadata"]["namespace"], pod["metadata"]["name"], {"status": status},
                           patch_type="merge", subresource="status")
    except ApiError:
        return None  # deleted meanwhile


def pod_delete(store, pod):
    try:
        store.delete(PODS, pod["metadata"]["namespace"], pod["metadata"]["name"])
    except ApiError:
        pass  # already gone


def event_emit(store, obj, *, reason, message, type_="Normal", component="sandbox-controller"):
    meta = obj["metadata"]
    now = now_iso()
    event = {
        "metadata": {"name": f"{meta['name']}.{_suffix(10)}", "namespace": meta["namespace"]},
        "involvedObject": {"apiVersion": obj["apiVersion"], "kind": obj["kind"], "name": meta["name"],
                           "namespace": meta["namespace"], "uid": meta["uid"],
                           "resourceVersion": meta.get("resourceVersion", "")},
        "reason": reason, "message": message, "type": type_, "count": 1,
        "source": {"component": component}, "firstTimestamp": now, "lastTimestamp": now,
        "reportingComponent": component,
    }
    try:
        store.create(EVENTS, meta["namespace"], event)
    except ApiError:
        pass  # the namespace is going away
