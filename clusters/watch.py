"""Watches: Gantry hears about its objects as they change, instead of listing everything every few seconds.

Per cluster and kind a thread lists once, then watches from the list's resourceVersion with
bookmarks; a dropped connection resumes from the last resourceVersion seen; 410 Expired (the
history was compacted) lists again; and every `resync_seconds` it lists again anyway, a safety net
(Kubernetes API concepts, "Efficient detection of changes" and "Watch bookmarks", v1.31).

What the watches hold is a Mirror: slim copies of Gantry's pods and of the objects sync reads,
indexed by namespace and deployment, plus the (namespace, deployment) pairs that changed since the
last take. The mirror answers with the same Observations as clusters.namespace_observe, built by
the same code (observe.observations_build), so watching and listing cannot disagree.
"""

import gc
import logging
import threading
import time
from collections import defaultdict
from contextlib import contextmanager

import orjson
import urllib3

from .client import ClusterError, NotFound, request, request_stream
from .labels import DEPLOYMENT_LABEL, MANAGED_SELECTOR
from .objects import ARGO, ARGO_CRON, CRON_WORKFLOW_LABEL, KNATIVE, KSERVE, TARGET_KINDS, cluster_wide_path
from .observe import REVISION_KIND, observations_build, pod_facts, pod_list_decode

log = logging.getLogger(__name__)

# kind key -> (apiVersion, kind, label selector). Revisions are not filtered: KServe's predictor
# Revisions carry the labels KServe chooses (observe._revisions).
WATCHED = {
    "pods": ("v1", "Pod", MANAGED_SELECTOR),
    "knative": (*KNATIVE, MANAGED_SELECTOR),
    "kserve": (*KSERVE, MANAGED_SELECTOR),
    "argo": (*ARGO, MANAGED_SELECTOR),
    "crons": (*ARGO_CRON, MANAGED_SELECTOR),
    "revisions": (*REVISION_KIND, None),
}
TARGET_OF = {kind: target for target, kind in TARGET_KINDS.items()}
# Labels Knative and KServe put on a Revision that name what it serves (Knative Serving
# pkg/apis/serving/register.go ServiceLabelKey; KServe pkg/constants InferenceServicePodLabelKey).
_REVISION_OWNER_LABELS = ("serving.knative.dev/service", "serving.kserve.io/inferenceservice")
_PREDICTOR_SUFFIX = "-predictor"  # KServe names its predictor's Knative Service <isvc>-predictor

CONNECT_TIMEOUT = 5.0
# The API server sends a bookmark about once a minute (KEP-956): a silent minute and a half means a
# connection that died without telling.
READ_TIMEOUT = 90.0
WATCH_SECONDS = 300  # each watch request asks to be ended after this; the next resumes where it stopped
BACKOFF = (0.2, 10.0)
FREEZE_AFTER = 1000  # objects in one list: past this, the mirror is moved out of the cyclic collector's sight


class Expired(Exception):
    """410: the watch's resourceVersion was compacted away; list again."""


def _slim(kind, obj):
    """What sync reads of an object: a pod's name, labels, resourceVersion and its PodFacts (computed once, when
    it changes, not at every sweep; and a few plain values where its nested dicts were a dozen objects for the
    cyclic collector to scan); other kinds whole but for managedFields (kilobytes each, never read)."""
    meta = obj.get("metadata") or {}
    if kind != "pods":
        obj = dict(obj, metadata={k: v for k, v in meta.items() if k != "managedFields"})
        obj.setdefault("apiVersion", WATCHED[kind][0])
        obj.setdefault("kind", WATCHED[kind][1])
        return obj
    return {"metadata": {"name": meta.get("name"), "namespace": meta.get("namespace"),
                         "resourceVersion": meta.get("resourceVersion"), "labels": meta.get("labels") or {}},
            "facts": pod_facts(obj)}


def _owners(kind, obj):
    """The deployment names an object counts for (several for a Revision: whichever label names it)."""
    labels = (obj.get("metadata") or {}).get("labels") or {}
    if kind == "revisions":
        names = {labels.get(DEPLOYMENT_LABEL)} | {labels.get(key) for key in _REVISION_OWNER_LABELS}
        names |= {n.removesuffix(_PREDICTOR_SUFFIX) for n in names if n}
        return {n for n in names if n}
    # Argo labels each Workflow a CronWorkflow starts with the cron's name: it belongs to that deployment.
    return {labels.get(DEPLOYMENT_LABEL) or labels.get(CRON_WORKFLOW_LABEL) or obj["metadata"]["name"]}


class _CollectorPause:
    """The cyclic collector off while any list of any watch thread is in flight. Every kind of every cluster lists
    in a thread of its own, all at once on a resync: one thread turning it back on while another's 50,000 pods were
    arriving would let it rescan them. The last list to end collects once, and freezes what is left if one was big."""

    def __init__(self):
        self._lock = threading.Lock()
        self._lists = 0
        self._big = False
        self._collecting = False

    @contextmanager
    def during_list(self):
        with self._lock:
            if self._lists == 0:
                gc.disable()
                self._big = False
            self._lists += 1
        try:
            yield
        finally:
            with self._lock:
                self._lists -= 1
                last, big = self._lists == 0, self._big
                if last:
                    gc.enable()
                    self._collecting = big
            if last and big:
                try:
                    gc.collect()
                    gc.freeze()
                finally:
                    with self._lock:
                        self._collecting = False

    def big_list(self):
        with self._lock:
            self._big = True

    def settled(self):
        with self._lock:
            return self._lists == 0 and not self._collecting


_COLLECTOR = _CollectorPause()


def lists_settled():
    """No list in flight in this process, and the collection after the last big one done: a resync timed from here
    pays for its own lists, not for the end of the ones before (bench/bench_watch.py)."""
    return _COLLECTOR.settled()


class Mirror:
    """One cluster's watched objects; thread-safe. Stored objects are never mutated, only replaced."""

    def __init__(self, name):
        self.name = name
        self._lock = threading.Lock()
        self._objects = {kind: {} for kind in WATCHED}  # kind -> {(ns, name): object}
        self._index = {kind: defaultdict(dict) for kind in WATCHED}  # kind -> {(ns, owner): {name: object}}
        self._revisions = defaultdict(dict)  # ns -> {name: Revision}: scale_read looks them up by name
        self._dirty = set()
        self._seen = {}  # (ns, deployment) -> {target: seen()}: a sweep rebuilds only what changed
        self._down = {}  # kind -> why its watch is not running
        self._listed = set()  # kinds listed at least once
        self._recovered = False

    # --- written by the watch threads ---

    def _put(self, kind, key, obj):
        old = self._objects[kind].pop(key, None)
        touched = set()
        if old is not None:
            for owner in _owners(kind, old):
                pair = (key[0], owner)
                self._index[kind][pair].pop(key[1], None)
                if not self._index[kind][pair]:
                    del self._index[kind][pair]  # a deployment gone for good leaves no key behind
                touched.add(pair)
        if kind == "revisions" and key[1] in self._revisions.get(key[0], {}):
            del self._revisions[key[0]][key[1]]
        if obj is not None:
            self._objects[kind][key] = obj
            for owner in _owners(kind, obj):
                self._index[kind][(key[0], owner)][key[1]] = obj
                touched.add((key[0], owner))
            if kind == "revisions":
                self._revisions[key[0]][key[1]] = obj
        self._dirty |= touched
        for pair in touched:
            self._seen.pop(pair, None)

    def apply(self, kind, event_type, obj):
        meta = obj.get("metadata") or {}
        key = (meta.get("namespace"), meta.get("name"))
        with self._lock:
            self._put(kind, key, None if event_type == "DELETED" else _slim(kind, obj))

    def replace(self, kind, items):
        """A fresh list: objects whose resourceVersion changed, new or gone mark their deployments changed."""
        fresh = {}
        for obj in items:
            meta = obj.get("metadata") or {}
            fresh[(meta.get("namespace"), meta.get("name"))] = obj
        with self._lock:
            current = self._objects[kind]
            for key in [k for k in current if k not in fresh]:
                self._put(kind, key, None)
            for key, obj in fresh.items():
                old = current.get(key)
                if old is None or old["metadata"].get("resourceVersion") != obj["metadata"].get("resourceVersion"):
                    self._put(kind, key, _slim(kind, obj))
            self._listed.add(kind)

    def down(self, kind, message):
        with self._lock:
            self._down[kind] = message

    def up(self, kind):
        with self._lock:
            if self._down.pop(kind, None) is not None and not self._down:
                self._recovered = True  # every deployment's "unreachable" message must be replaced

    # --- read by the writer ---

    def take(self):
        """(changed (namespace, deployment) pairs, whether the cluster just came back), both reset."""
        with self._lock:
            dirty, self._dirty = self._dirty, set()
            recovered, self._recovered = self._recovered, False
            return dirty, recovered

    @property
    def problem(self):
        """Why this cluster is not being watched now, or None."""
        with self._lock:
            return next(iter(self._down.values()), None)

    def ready(self):
        """Every kind listed once: the mirror speaks for the whole cluster."""
        with self._lock:
            return self._listed == set(WATCHED)

    def seen(self, namespace, name, target):
        """{(target, name): Observation} of one deployment, as namespace_observe would report it, and
        {name: CronWorkflow} for a scheduled one."""
        with self._lock:
            cached = self._seen.get((namespace, name), {}).get(target)
            if cached is not None:
                return cached
            pods = [pod["facts"] for pod in self._index["pods"].get((namespace, name), {}).values()]
            kind = next(k for k, v in WATCHED.items() if v[:2] == TARGET_KINDS[target])
            observed = {(target, n): obj for n, obj in self._index[kind].get((namespace, name), {}).items()}
            revisions = self._revisions.get(namespace, {})
            crons = dict(self._index["crons"].get((namespace, name), {}))
            result = (observations_build(pods, observed, revisions, {target}), crons)
            self._seen.setdefault((namespace, name), {})[target] = result
            return result


class ClusterWatch:
    """The watch threads of one cluster, feeding one Mirror."""

    def __init__(self, cluster, *, resync_seconds, name=None):
        self.cluster = cluster
        self.mirror = Mirror(name or (cluster.name if cluster is not None else "default"))
        self.resync_seconds = resync_seconds
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(kind,), daemon=True,
                                          name=f"watch-{self.mirror.name}-{kind}") for kind in WATCHED]
        self._responses = {}
        self._failures = {}  # kind -> failed attempts in a row

    def start(self):
        for thread in self._threads:
            thread.start()
        return self

    def stop(self):
        self._stop.set()
        for response in list(self._responses.values()):
            try:
                response.shutdown()  # unblocks the thread's read (urllib3 2.3+)
            except Exception:  # noqa: BLE001 (already closed: nothing to unblock)
                pass
        for thread in self._threads:
            thread.join(5)

    def _run(self, kind):
        rv, listed_at = None, 0.0
        while not self._stop.is_set():
            try:
                if rv is None or time.monotonic() - listed_at >= self.resync_seconds:
                    rv, listed_at = self._list(kind), time.monotonic()
                rv = self._follow(kind, rv, until=listed_at + self.resync_seconds)
            except Expired:
                log.info("watch of %s on %s expired: listing again", kind, self.mirror.name)
                rv = None
            except NotFound:
                # The kind is not served (its CRD is not installed): nothing of it to watch; look again later.
                self.mirror.replace(kind, [])
                self.mirror.up(kind)
                self._stop.wait(self.resync_seconds)
                rv = None
            except ClusterError as exc:
                if self._stop.is_set():
                    break
                failures = self._failures[kind] = self._failures.get(kind, 0) + 1
                if failures == 1:
                    continue  # a watch connection that ends is ordinary: resume at once from rv
                log.warning("watch of %s on %s: %s", kind, self.mirror.name, exc.message)
                self.mirror.down(kind, f"cluster {self.mirror.name} unreachable: {exc.message}")
                self._stop.wait(min(BACKOFF[0] * 2 ** (failures - 2), BACKOFF[1]))
            except Exception:  # a thread that dies silently would leave the cluster unwatched
                log.exception("watch of %s on %s failed", kind, self.mirror.name)
                self.mirror.down(kind, f"cluster {self.mirror.name}: the watch failed unexpectedly")
                self._stop.wait(BACKOFF[1])
                rv = None

    def _list(self, kind):
        api_version, kind_name, selector = WATCHED[kind]
        # A list brings tens of thousands of long-lived objects; the cyclic collector would rescan the
        # whole mirror again and again while they arrive, and after (1-2 s a pass at 50,000 pods,
        # bench/bench_watch.py). So it waits, then collects once and freezes what is left: the mirror holds
        # no cycles, so what it drops later is still freed by reference counting, and no garbage is frozen.
        with _COLLECTOR.during_list():
            result = request("GET", cluster_wide_path(api_version, kind_name), what=f"listing {kind_name}",
                             query={"labelSelector": selector} if selector else None, cluster=self.cluster,
                             timeout=(CONNECT_TIMEOUT, READ_TIMEOUT),
                             decode=pod_list_decode if kind == "pods" else orjson.loads)
            items = result.get("items") or []
            self.mirror.replace(kind, items)
            rv = (result.get("metadata") or {}).get("resourceVersion") or "0"
            if len(items) > FREEZE_AFTER:
                _COLLECTOR.big_list()
            del result, items
        self.mirror.up(kind)
        self._failures[kind] = 0
        return rv

    def _follow(self, kind, rv, *, until):
        """Watch from `rv` until `until` (monotonic) or the server ends the stream; the last resourceVersion."""
        api_version, kind_name, selector = WATCHED[kind]
        seconds = max(1, min(WATCH_SECONDS, int(until - time.monotonic())))
        query = {"watch": "1", "resourceVersion": rv, "allowWatchBookmarks": "true", "timeoutSeconds": str(seconds)}
        if selector:
            query["labelSelector"] = selector
        response = request_stream(cluster_wide_path(api_version, kind_name), query=query, what=f"watching {kind_name}",
                                  timeout=(CONNECT_TIMEOUT, READ_TIMEOUT), cluster=self.cluster)
        self._responses[kind] = response
        self.mirror.up(kind)
        self._failures[kind] = 0
        try:
            for line in _lines(response):
                event = orjson.loads(line)
                obj = event.get("object") or {}
                if event.get("type") == "ERROR":
                    if obj.get("code") == 410:
                        raise Expired()
                    raise ClusterError(f"watching {kind_name}: {obj.get('message') or 'error event'}")
                rv = (obj.get("metadata") or {}).get("resourceVersion") or rv
                if event.get("type") != "BOOKMARK":
                    self.mirror.apply(kind, event["type"], obj)
                if self._stop.is_set():
                    break
        except (urllib3.exceptions.HTTPError, OSError, ValueError) as exc:
            # ProtocolError when the server drops the connection, ReadTimeoutError when it goes quiet
            raise ClusterError(f"watching {kind_name}: the connection broke ({type(exc).__name__})") from exc
        finally:
            self._responses.pop(kind, None)
            response.release_conn()
        return rv


def _lines(response):
    """The newline-separated events of a watch stream, as they arrive."""
    pending = b""
    for chunk in response.stream(None, decode_content=False):
        pending += chunk
        *lines, pending = pending.split(b"\n")
        yield from (line for line in lines if line.strip())
    if pending.strip():
        yield pending
