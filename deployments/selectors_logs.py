"""A deployment's pod logs for a reader (the API and the page ask the same functions).

Which pod and container: the caller's, if the pod is this deployment's (found by its label, so
"chat" never shows a pod of "chat-v2"); by default the pod ready the longest (else the newest) and its
model container. Reads and follows are bounded by clusters.logs.
"""

from dataclasses import dataclass

from django.http import Http404

import clusters
from clusters.logs import MAX_LINES
from clusters.selectors import cluster_for_region
from specs.pods import MODEL_CONTAINERS

PAGE_TAIL = 200
MAX_SINCE_SECONDS = 7 * 24 * 3600
_TRUE, _FALSE = ("1", "true", "on", "yes"), ("", "0", "false", "off", "no")


@dataclass(frozen=True)
class LogQuery:
    pod: str = ""
    container: str = ""
    tail: int | None = None
    since_seconds: int | None = None
    previous: bool = False
    follow: bool = False


class LogQueryInvalid(Exception):
    def __init__(self, errors):
        super().__init__("; ".join(message for _, message in errors))
        self.errors = errors  # [(field, message)]


def _int(params, field, low, high, errors):
    raw = (params.get(field) or "").strip()
    if raw == "":
        return None
    if not raw.isdigit() or not low <= int(raw) <= high:
        errors.append((field, f"`{field}` must be a whole number from {low} to {high}."))
        return None
    return int(raw)


def _bool(params, field, errors):
    raw = (params.get(field) or "").strip().lower()
    if raw not in _TRUE + _FALSE:
        errors.append((field, f"`{field}` must be 1 or 0 (true or false)."))
        return False
    return raw in _TRUE


def log_query_parse(params, *, default_tail=None):
    """LogQuery from query parameters; LogQueryInvalid naming each bad field."""
    errors = []
    query = LogQuery(
        pod=(params.get("pod") or "").strip(), container=(params.get("container") or "").strip(),
        tail=_int(params, "tail", 0, MAX_LINES, errors), since_seconds=_int(params, "since_seconds", 1,
                                                                             MAX_SINCE_SECONDS, errors),
        previous=_bool(params, "previous", errors), follow=_bool(params, "follow", errors))
    if query.previous and query.follow:
        errors.append(("follow", "A previous container's log does not grow: ask for `previous` or `follow`."))
    if errors:
        raise LogQueryInvalid(errors)
    if query.tail is None and query.since_seconds is None and default_tail is not None:
        query = LogQuery(**{**query.__dict__, "tail": default_tail})
    return query


def deployment_pods(deployment):
    """Its pods, newest first (clusters.deployment_pods_list); ClusterError when the cluster cannot say."""
    return clusters.deployment_pods_list(deployment.namespace, deployment.name,
                                         cluster=cluster_for_region(deployment.region))


def _longest_ready(pods):
    """The ready pod that has been ready the longest: the one `kubectl logs deployment/...` reads (kubectl
    pkg/util/podutils ByLogging) and the last a scale-down removes (ActivePods), so its name stays good
    while the autoscaler trims the newer ones."""
    ready = [p for p in pods if p["ready"]]
    return min(ready, key=lambda p: (p["ready_since"] or p["created"], p["created"], p["name"]), default=None)


def log_source(deployment, pods, query):
    """(pod, container) to read: the asked-for ones, or the defaults. Http404 for a pod that is not this
    deployment's; LogQueryInvalid for a container the pod does not have; (None, None) without pods."""
    if query.pod:
        pod = next((p for p in pods if p["name"] == query.pod), None)
        if pod is None:
            raise Http404(f"Pod {query.pod} is not one of this deployment's pods (it may have been replaced).")
    elif pods:
        pod = _longest_ready(pods) or pods[0]
    else:
        return None, None
    names = [c["name"] for c in pod["containers"]]
    if query.container:
        if query.container not in names:
            raise LogQueryInvalid([("container", f"Pod {pod['name']} has no container {query.container}; "
                                                 f"pick one of: {', '.join(names)}.")])
        return pod, query.container
    model = MODEL_CONTAINERS.get(deployment.target)
    return pod, model if model in names else (names[0] if names else "")


def deployment_log_read(deployment, pod, container, query):
    return clusters.pod_logs(deployment.namespace, pod["name"], container=container, tail=query.tail,
                             since_seconds=query.since_seconds, previous=query.previous,
                             cluster=cluster_for_region(deployment.region))


def deployment_log_follow(deployment, pod, container, query):
    """An iterator of text chunks (opened now: a ClusterError is raised here, not while streaming)."""
    return clusters.pod_logs_follow(deployment.namespace, pod["name"], container=container, tail=query.tail,
                                    since_seconds=query.since_seconds,
                                    cluster=cluster_for_region(deployment.region))
