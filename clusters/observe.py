"""The observation half of sync: what the cluster says about Gantry's deployments, namespace by namespace.

One pods list, one list per kind in use and, with Knative or KServe in use, one list of Knative
Revisions (their scale and Active condition: clusters/scale.py): the API calls grow with namespaces,
never with deployments. Pure reading; deciding what it means for a deployment's status is deployments/state.py.
"""

import logging
from collections import defaultdict
from dataclasses import dataclass, replace
from typing import Any, NamedTuple, TypedDict

import msgspec
import orjson

from .client import ClusterError, NotFound
from .labels import DEPLOYMENT_LABEL
from .objects import TARGET_KINDS, objects_list, pods_list
from .scale import scale_read
from .status import status_read

log = logging.getLogger(__name__)

GPU_RESOURCE = "nvidia.com/gpu"


@dataclass
class Observation:
    ready_pods: int = 0
    total_pods: int = 0
    gpus_in_use: int = 0
    running_pods: int = 0  # scheduled and running: what holds CPU and RAM on CPU nodes (spend meters them)
    succeeded_pods: int = 0
    failed_pods: int = 0
    obj: dict | None = None  # the main object (Knative Service, InferenceService or Workflow), None: absent
    status: dict | None = None  # status_read(obj)
    scale: dict | None = None  # scale_read(obj, revisions): what its Knative Revisions say; None: unknown


class PodFacts(NamedTuple):
    """What the counts read of one pod (pod_facts). A tuple of plain values: the watcher's mirror keeps one per
    pod instead of the pod's nested dicts, and a sweep sums them without reading a pod again."""

    deployment: str
    phase: str | None
    gpus: int
    ready: bool


# The part of a pod that pod_facts and the watcher's mirror read (clusters/watch.py _slim), as a schema for
# msgspec (0.19+, "Supported Types", TypedDict: fields not declared are skipped while parsing, never built). A
# list of 50,000 pods is about 90 MB of JSON; read whole, it is 1.5 million objects to build and then free.
class _Resources(TypedDict, total=False):
    limits: dict[str, Any]
    requests: dict[str, Any]


class _Container(TypedDict, total=False):
    resources: _Resources


class _PodSpec(TypedDict, total=False):
    containers: list[_Container]


class _Condition(TypedDict, total=False):
    type: Any
    status: Any


class _PodStatus(TypedDict, total=False):
    phase: Any
    conditions: list[_Condition]


class _PodMeta(TypedDict, total=False):
    name: str
    namespace: str
    resourceVersion: str
    labels: dict[str, str]


class _Pod(TypedDict, total=False):
    metadata: _PodMeta
    spec: _PodSpec
    status: _PodStatus


class _PodList(TypedDict, total=False):
    metadata: dict[str, Any]
    items: list[_Pod]


_POD_LIST = msgspec.json.Decoder(_PodList)


def pod_list_decode(data):
    """A PodList body with only what the counts read of each pod. A body outside that schema (a field of another
    type than the API's) is read whole instead, as any other list, for pod_facts to skip what it cannot read."""
    try:
        return _POD_LIST.decode(data)
    except msgspec.ValidationError as exc:
        log.warning("a pod list outside the expected schema (%s); read whole", exc)
        return orjson.loads(data)
    except msgspec.DecodeError as exc:
        raise ValueError(str(exc)) from exc


def _pod_gpus(pod):
    total = 0
    for container in (pod.get("spec") or {}).get("containers") or []:
        if not isinstance(container, dict):
            continue
        resources = container.get("resources") or {}
        value = (resources.get("limits") or {}).get(GPU_RESOURCE) or (resources.get("requests") or {}).get(GPU_RESOURCE)
        try:
            total += int(value or 0)
        except (TypeError, ValueError):
            continue
    return total


def _pod_ready(pod):
    conditions = (pod.get("status") or {}).get("conditions")
    if not conditions:
        return True  # a Running pod without conditions (as some simulators report it)
    return any(isinstance(c, dict) and c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def pod_facts(pod):
    """PodFacts of a pod of a Gantry deployment; None for another pod, or one Gantry cannot read (logged: one
    malformed pod must not hide every other pod of the namespace)."""
    try:
        name = ((pod.get("metadata") or {}).get("labels") or {}).get(DEPLOYMENT_LABEL)
        if not name or not isinstance(name, str):
            return None
        phase = (pod.get("status") or {}).get("phase")
        running = phase == "Running"
        # Only a scheduled, running pod holds its GPUs (and costs money).
        return PodFacts(name, phase, _pod_gpus(pod) if running else 0, running and _pod_ready(pod))
    except (AttributeError, TypeError, ValueError) as exc:
        log.warning("skipped a pod Gantry cannot read (%s): %s", type(exc).__name__, exc)
        return None


def _pods_aggregate(facts):
    """Pods per deployment name, counted in memory from their PodFacts (None: not counted): {name: Observation}."""
    out = defaultdict(Observation)
    for pod in facts:
        if pod is None:
            continue
        obs = out[pod.deployment]
        if pod.phase == "Succeeded":
            obs.succeeded_pods += 1
        elif pod.phase == "Failed":
            obs.failed_pods += 1
        else:
            obs.total_pods += 1
            obs.gpus_in_use += pod.gpus
            obs.running_pods += pod.phase == "Running"
            obs.ready_pods += pod.ready
    return out


def namespace_observe(namespace, targets, *, cluster=None):
    """One pods list and one list per kind in use: {(target, name): Observation}. ClusterError propagates."""
    pods = pods_list(namespace, cluster=cluster)
    observed = {}
    for target in sorted(targets):
        kind = TARGET_KINDS[target]
        try:
            items = objects_list(*kind, namespace, cluster=cluster)
        except NotFound:
            log.warning("the cluster does not serve %s/%s: is its CRD installed?", *kind)
            items = []
        for obj in items:
            observed[(target, obj["metadata"]["name"])] = obj
    revisions = _revisions(namespace, cluster) if set(targets) & SERVED_BY_KNATIVE else {}
    return observations_build([pod_facts(pod) for pod in pods], observed, revisions, targets)


def observations_build(pods, observed, revisions, targets):
    """What pods and objects say, per (target, name): the pure half of namespace_observe, which the
    watcher (clusters/watch.py) also calls with what its watches hold. `pods`: their PodFacts (pod_facts);
    `observed`: {(target, name): object}; `revisions`: {name: Knative Revision} of the namespace."""
    result = defaultdict(Observation)
    for name, obs in _pods_aggregate(pods).items():
        for target in targets:
            result[(target, name)] = replace(obs)
    for key, obj in observed.items():
        obs = result[key]
        obs.obj, obs.status = obj, status_read(obj)
        if key[0] in SERVED_BY_KNATIVE:
            obs.scale = scale_read(obj, revisions)
    return result


SERVED_BY_KNATIVE = {"knative", "kserve"}  # targets whose pods belong to Knative Revisions (KServe: its predictor's)
REVISION_KIND = ("serving.knative.dev/v1", "Revision")


def _revisions(namespace, cluster):
    """{name: Revision} of the namespace, one list. Not filtered by Gantry's label: KServe's predictor
    Revisions carry the labels KServe chooses. Without them the warm state falls back to the pods."""
    try:
        return {rev["metadata"]["name"]: rev for rev in objects_list(*REVISION_KIND, namespace, label_selector=None,
                                                                              cluster=cluster)}
    except ClusterError as exc:
        if not exc.permanent:
            raise
        log.warning("cannot list Knative Revisions in %s (%s): the warm state falls back to the pods", namespace,
                    exc.message)
        return {}


def live_objects(namespace, targets, *, cluster=None):
    """{(target, name): object} of the main object kinds in use in a namespace (one list per kind)."""
    live = {}
    for target in sorted(targets):
        try:
            items = objects_list(*TARGET_KINDS[target], namespace, cluster=cluster)
        except NotFound:
            log.warning("the cluster does not serve %s/%s: is its CRD installed?", *TARGET_KINDS[target])
            continue
        for obj in items:
            live[(target, obj["metadata"]["name"])] = obj
    return live
