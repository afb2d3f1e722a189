"""A deployment's pods and their logs, read through the pods/log subresource; every read is bounded.

GET /api/v1/namespaces/{namespace}/pods/{name}/log, "read log of the specified Pod" in the Kubernetes
API reference (v1.31, workload-resources/pod-v1): query parameters `container` (needed when the pod
has more than one), `follow` (stream the log), `previous` (the previously terminated container),
`sinceSeconds` (relative, positive), `tailLines` (from the end), `limitBytes` (the server stops
after this many bytes) and `timestamps`; the answer is text/plain. RBAC: resource `pods/log`, verb `get`.

Bounds, so one request never holds a web worker or its memory for long: at most MAX_LINES lines and
MAX_BYTES bytes per read; a follow lasts at most FOLLOW_SECONDS and MAX_BYTES.
"""

import codecs
import logging
import threading
import time

import urllib3

from .client import request_stream, unreachable
from .labels import DEPLOYMENT_LABEL
from .objects import objects_list

log = logging.getLogger(__name__)

MAX_LINES = 5000
MAX_BYTES = 1024 * 1024
FOLLOW_SECONDS = 60.0
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 15.0
_CHUNK = 16 * 1024


def _log_path(namespace, pod):
    return f"/api/v1/namespaces/{namespace}/pods/{pod}/log"


def _query(container, tail, since_seconds, previous, limit):
    tail = MAX_LINES if tail is None else max(0, min(int(tail), MAX_LINES))
    query = {"tailLines": str(tail), "limitBytes": str(limit)}
    if container:
        query["container"] = container
    if since_seconds:
        query["sinceSeconds"] = str(int(since_seconds))
    if previous:
        query["previous"] = "true"
    return query


def pod_logs(namespace, pod, *, container=None, tail=None, since_seconds=None, previous=False, cluster=None):
    """The log of one container as text: the last `tail` lines (at most MAX_LINES), at most MAX_BYTES."""
    what = f"reading the log of pod {pod}"
    response = request_stream(_log_path(namespace, pod), query=_query(container, tail, since_seconds, previous,
                                                                      MAX_BYTES),
                              timeout=(CONNECT_TIMEOUT, READ_TIMEOUT), what=what, cluster=cluster)
    try:
        data = response.read(MAX_BYTES)
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise unreachable(exc, f"{what}: ") from exc
    finally:
        _done(response)
    return data.decode("utf-8", "replace")


def pod_logs_follow(namespace, pod, *, container=None, tail=None, since_seconds=None, seconds=None, cluster=None):
    """Follow a container's log: opens now (so a missing pod or a bad container raises ClusterError here)
    and returns an iterator of text chunks as the kubelet writes them, ending after `seconds` (at most
    FOLLOW_SECONDS) or MAX_BYTES, or when the container stops."""
    seconds = max(0.1, min(float(seconds or FOLLOW_SECONDS), FOLLOW_SECONDS))
    query = {**_query(container, tail, since_seconds, False, MAX_BYTES), "follow": "true"}
    response = request_stream(_log_path(namespace, pod), query=query, timeout=(CONNECT_TIMEOUT, seconds + 1),
                              what=f"following the log of pod {pod}", cluster=cluster)
    return _chunks(response, seconds)


def _chunks(response, seconds):
    # The kubelet sends nothing while the container is quiet, so a blocked read is cut from a timer.
    deadline = time.monotonic() + seconds
    timer = threading.Timer(seconds, response.shutdown)
    timer.daemon = True
    timer.start()
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    try:
        for data in response.stream(_CHUNK):
            text = decoder.decode(data)
            if text:
                yield text
            if time.monotonic() >= deadline:
                break
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        if time.monotonic() < deadline:
            log.warning("log stream ended early: %s", exc)
    finally:
        timer.cancel()
        _done(response)


def _done(response):
    # Closed first: a connection with unread (or cut) body must not go back to the pool for reuse;
    # released then, so its pool slot is free again.
    response.close()
    response.release_conn()


def _ready_since(pod):
    """When the pod became ready ("" if it is not, or the server did not say when); None if not ready."""
    conditions = (pod.get("status") or {}).get("conditions") or []
    ready = next((c for c in conditions if c.get("type") == "Ready" and c.get("status") == "True"), None)
    return None if ready is None else ready.get("lastTransitionTime") or ""


def deployment_pods_list(namespace, name, *, cluster=None):
    """The pods of one deployment (label gantry.io/deployment=<name>), newest first, with their containers:
    [{"name", "phase", "ready", "ready_since", "created", "containers": [{"name", "ready", "restarts"}]}]."""
    pods = objects_list("v1", "Pod", namespace, label_selector=f"{DEPLOYMENT_LABEL}={name}", cluster=cluster)
    out = []
    for pod in pods:
        status = pod.get("status") or {}
        ready_since = _ready_since(pod)
        states = {cs.get("name"): cs for cs in status.get("containerStatuses") or []}
        out.append({
            "name": pod["metadata"]["name"],
            "phase": status.get("phase", "Pending"),
            "ready": ready_since is not None,
            "ready_since": ready_since or "",
            "created": pod["metadata"].get("creationTimestamp", ""),
            "containers": [{"name": c["name"], "ready": bool((states.get(c["name"]) or {}).get("ready")),
                            "restarts": int((states.get(c["name"]) or {}).get("restartCount") or 0)}
                           for c in (pod.get("spec") or {}).get("containers") or []],
        })
    return sorted(out, key=lambda p: (p["created"], p["name"]), reverse=True)
