"""GET .../pods/<name>/log: what the kubelet would stream, told from the simulated pod's state.

Errors worded as kube-apiserver v1.31 words them (pkg/registry/core/pod/strategy.go LogLocation):
a pod with several containers needs ?container=, and a container that has not started has no log.
"""

from .errors import bad_request


def pod_log(pod, query):
    name = pod["metadata"]["name"]
    containers = [c["name"] for c in (pod.get("spec") or {}).get("containers") or []]
    container = query.get("container")
    if not container:
        if len(containers) != 1:
            raise bad_request(f"a container name must be specified for pod {name}, "
                              f"choose one of: [{' '.join(containers)}]")
        container = containers[0]
    if container not in containers:
        raise bad_request(f"container {container} is not valid for pod {name}")
    spec = next(c for c in pod["spec"]["containers"] if c["name"] == container)
    state = next((cs.get("state") or {} for cs in (pod.get("status") or {}).get("containerStatuses") or []
                  if cs.get("name") == container), {})
    if not state or "waiting" in state:
        reason = (state.get("waiting") or {}).get("reason", "ContainerCreating")
        raise bad_request(f'container "{container}" in pod "{name}" is waiting to start: {reason}')
    started = (state.get("running") or {}).get("startedAt") or pod["status"].get("startTime", "")
    lines = [f"{started} sandbox: container {container} started from image {spec.get('image', '')}",
             f"{started} sandbox: serving (simulated; no process runs in the sandbox)"]
    if "terminated" in state:
        done = state["terminated"]
        lines.append(f"{done.get('finishedAt', '')} sandbox: exited with code {done.get('exitCode', 0)}")
    tail = query.get("tailLines")
    if tail is not None and tail.isdigit():
        lines = lines[-int(tail):] if int(tail) else []
    return "".join(line + "\n" for line in lines)
