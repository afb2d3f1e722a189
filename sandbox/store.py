"""The in-memory object store behind the sandbox API: what etcd plus the API server's
write path do (resourceVersion, uid, generation, validation, watch fan-out).

Synchronous and guarded by one lock, so the HTTP handlers (on the server's
asyncio loop), the simulator thread and test code can all use it directly.
"""

import collections
import copy
import datetime
import random
import re
import string
import threading
import uuid

import orjson

from . import crdschema
from .errors import STALE_OBJECT, ApiError, already_exists, bad_request, conflict, invalid, not_found
from .fieldmanagers import apply_merge, managed_fields_for_update
from .merging import json_patch, merge_patch, strategic_directives_drop
from .resources import resource_type
from .semantics import update_problems
from .selectors import fields_match, labels_match

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL_NAMED_KINDS = {"Namespace", "Service"}
HISTORY_SIZE = 5000
_PROTECTED_NAMESPACES = ("default", "kube-system", "kube-public")


def now_iso():
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _spec_part(obj):
    """What generation tracks: everything but metadata and status."""
    return {k: v for k, v in obj.items() if k not in ("metadata", "status")}


def _precondition_check(rt, name, sent, current):
    """409 Conflict when the client's resourceVersion is not the stored one (optimistic locking)."""
    sent_rv = (sent.get("metadata") or {}).get("resourceVersion")
    if sent_rv and sent_rv != current["metadata"]["resourceVersion"]:
        raise conflict(rt, name, STALE_OBJECT)


DROP = "drop"  # queued to a watcher: cut its connection


class Watcher:
    def __init__(self, rt, namespace, labels, fields, loop, queue):
        self.rt, self.namespace, self.labels, self.fields = rt, namespace, labels, fields
        self.loop, self.queue = loop, queue

    def wants(self, rt, obj):
        meta = obj.get("metadata", {})
        return (rt == self.rt and (self.namespace is None or meta.get("namespace") == self.namespace)
                and labels_match(self.labels, meta.get("labels")) and fields_match(self.fields, obj))


class _Objects(dict):
    """(rt, namespace or None, name) -> object, with each resource type's keys apart: a list reads its type's
    objects only, as the API server's storage keeps each resource under a prefix of its own. A scan of every
    stored object per list made six lists of a resync wait on each other for 1.7 s at 50,000 pods (bench_watch)."""

    def __init__(self):
        super().__init__()
        self.by_type = collections.defaultdict(dict)

    def __setitem__(self, key, obj):
        super().__setitem__(key, obj)
        self.by_type[key[0]][key] = obj

    def pop(self, key, *default):
        self.by_type[key[0]].pop(key, None)
        return super().pop(key, *default)

    def __delitem__(self, key):
        self.pop(key)

    def clear(self):
        super().clear()
        self.by_type.clear()

    def _unindexed(self, *args, **kwargs):
        raise TypeError("write through [key] =, pop() or clear(): they keep by_type in step")

    setdefault = update = popitem = __ior__ = _unindexed


class Store:
    def __init__(self):
        # A server that accepted every custom resource would hide Gantry's mistakes: refuse to start.
        crdschema.crds_dir()
        self._lock = threading.RLock()
        self._objects = _Objects()
        self._rv = 0
        self._history = collections.deque(maxlen=HISTORY_SIZE)  # (rv, rt, event)
        self._compacted = 0  # a watch from a resourceVersion below this is answered 410 Expired
        self._watchers = set()
        self.reset()

    # --- inspection and housekeeping (tests, simulator) ---

    def reset(self):
        """Back to a fresh cluster with the default namespaces; open watches end."""
        with self._lock:
            self._objects.clear()
            self._history.clear()
            self._compacted = self._rv
            for watcher in list(self._watchers):
                self._notify_one(watcher, None)
            self._watchers.clear()
            ns_type = resource_type("namespaces")
            for name in ("default", "kube-system", "kube-public"):
                self.create(ns_type, None, {"metadata": {"name": name}})

    def close(self):
        with self._lock:
            for watcher in list(self._watchers):
                self._notify_one(watcher, None)
            self._watchers.clear()

    def backdate(self, rt, namespace, name, seconds):
        """Make an object `seconds` older (tests): creationTimestamp is whole seconds, as the API server's."""
        with self._lock:
            meta = self._objects[(rt, namespace if rt.namespaced else None, name)]["metadata"]
            created = datetime.datetime.strptime(meta["creationTimestamp"], "%Y-%m-%dT%H:%M:%SZ")
            meta["creationTimestamp"] = (created - datetime.timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")

    @property
    def resource_version(self):
        return str(self._rv)

    def objects(self, rt, namespace=None, label_selector=()):
        items, _ = self.list(rt, namespace, labels=label_selector)
        return items

    # --- reads ---

    def get(self, rt, namespace, name):
        with self._lock:
            obj = self._objects.get((rt, namespace if rt.namespaced else None, name))
            if obj is None:
                raise not_found(rt, name)
            return copy.deepcopy(obj)

    def _matching(self, rt, namespace, labels, fields):
        """The stored objects a list returns, in the API server's order (namespace, name); not copies."""
        found = [(key, obj) for key, obj in self._objects.by_type.get(rt, {}).items()
                 if (namespace is None or key[1] == namespace)
                 and labels_match(labels, obj["metadata"].get("labels")) and fields_match(fields, obj)]
        found.sort(key=lambda kv: (kv[0][1] or "", kv[0][2]))
        return [obj for _, obj in found]

    def list(self, rt, namespace=None, *, labels=(), fields=()):
        with self._lock:
            return [copy.deepcopy(obj) for obj in self._matching(rt, namespace, labels, fields)], str(self._rv)

    def list_encoded(self, rt, namespace=None, *, labels=(), fields=()):
        """A List response body, serialized under the lock instead of deep-copying every object first:
        a list of 50,000 pods is tens of MB, and the copy alone took seconds."""
        with self._lock:
            items = self._matching(rt, namespace, labels, fields)
            head = {"kind": f"{rt.kind}List", "apiVersion": rt.api_version, "metadata": {"resourceVersion": str(self._rv)}}
            return orjson.dumps(head)[:-1] + b',"items":' + orjson.dumps(items) + b"}"

    # --- writes ---

    def create(self, rt, namespace, obj, *, manager=None, dry_run=False):
        with self._lock:
            obj = copy.deepcopy(obj)
            meta = obj.setdefault("metadata", {})
            namespace = self._namespace_for_write(rt, namespace, meta)
            if not meta.get("name") and meta.get("generateName"):
                suffix = "".join(random.choices(string.ascii_lowercase + string.digits, k=5))
                meta["name"] = meta["generateName"] + suffix
            name = meta.get("name")
            if not name:
                raise invalid(rt, "", ["metadata.name: Required value: name or generateName is required"])
            if (rt, namespace, name) in self._objects:
                raise already_exists(rt, name)
            obj["apiVersion"], obj["kind"] = rt.api_version, rt.kind
            if rt.status_subresource:
                obj.pop("status", None)
            self._server_defaults(rt, obj)
            if manager:
                meta["managedFields"] = managed_fields_for_update(None, obj, manager=manager, now=now_iso())
            meta.update({"uid": str(uuid.uuid4()), "creationTimestamp": now_iso(), "generation": 1})
            return self._commit(rt, (rt, namespace, name), obj, "ADDED", dry_run=dry_run)

    def replace(self, rt, namespace, name, obj, *, subresource=None, manager=None, dry_run=False):
        """PUT: optimistic locking on metadata.resourceVersion when the client sends one."""
        with self._lock:
            key, current = self._existing(rt, namespace, name)
            _precondition_check(rt, name, obj, current)
            if (obj.get("metadata") or {}).get("name", name) != name:
                raise bad_request("the name of the object does not match the name on the URL")
            return self._write(rt, key, current, obj, subresource=subresource, manager=manager, dry_run=dry_run)

    def patch(self, rt, namespace, name, body, *, patch_type, subresource=None, manager=None, force=False,
              dry_run=False):
        """patch_type: merge | strategic | json | apply. Apply creates a missing object."""
        with self._lock:
            if patch_type == "apply":
                return self._apply(rt, namespace, name, body, subresource=subresource, manager=manager,
                                   force=force, dry_run=dry_run)
            key, current = self._existing(rt, namespace, name)
            if patch_type == "strategic":
                body = strategic_directives_drop(body)
            try:
                new = json_patch(current, body) if patch_type == "json" else merge_patch(current, body)
            except (ValueError, KeyError, IndexError, TypeError) as exc:
                raise ApiError(422, "Invalid", f"the JSON patch could not be applied: {exc}") from exc
            # A resourceVersion carried by the patch is a precondition, as on the API server.
            _precondition_check(rt, name, new, current)
            return self._write(rt, key, current, new, subresource=subresource, manager=manager, dry_run=dry_run)

    def delete(self, rt, namespace, name, *, propagation=None, dry_run=False):
        with self._lock:
            key, current = self._existing(rt, namespace, name)
            if dry_run:
                return current
            if rt.kind == "Namespace" and not rt.group:
                return self._namespace_delete(key, current)
            if current["metadata"].get("finalizers"):
                if not current["metadata"].get("deletionTimestamp"):
                    current["metadata"]["deletionTimestamp"] = now_iso()
                    return self._commit(rt, key, current, "MODIFIED")
                return current
            return self._remove(key, cascade=propagation != "Orphan")

    def _namespace_delete(self, key, current):
        """The namespace turns Terminating (what DELETE answers), then the namespace controller's
        work happens at once: its objects go, then the namespace (kubernetes v1.31
        pkg/registry/core/namespace/storage/storage.go Delete; "default", "kube-system" and
        "kube-public" are refused by the NamespaceLifecycle admission plugin with 403)."""
        name = key[2]
        if name in _PROTECTED_NAMESPACES:
            raise ApiError(403, "Forbidden", f'namespaces "{name}" is forbidden: this namespace may not be deleted',
                           details={"name": name, "kind": "namespaces"})
        current["metadata"]["deletionTimestamp"] = now_iso()
        current["status"] = {"phase": "Terminating"}
        self._objects[key] = current
        terminating = self._commit(key[0], key, current, "MODIFIED")
        self._remove(key, cascade=True)
        return terminating

    # --- internals ---

    def _namespace_for_write(self, rt, namespace, meta):
        if not rt.namespaced:
            meta.pop("namespace", None)
            return None
        if meta.get("namespace") and namespace and meta["namespace"] != namespace:
            raise bad_request("the namespace of the provided object does not match the namespace sent on the request")
        namespace = namespace or meta.get("namespace") or "default"
        if (resource_type("namespaces"), None, namespace) not in self._objects:
            raise ApiError(404, "NotFound", f'namespaces "{namespace}" not found',
                           details={"name": namespace, "kind": "namespaces"})
        meta["namespace"] = namespace
        return namespace

    def _existing(self, rt, namespace, name):
        key = (rt, namespace if rt.namespaced else None, name)
        if key not in self._objects:
            raise not_found(rt, name)
        return key, copy.deepcopy(self._objects[key])

    def _server_defaults(self, rt, obj):
        if rt.kind == "Namespace":
            obj.setdefault("spec", {"finalizers": ["kubernetes"]})
            obj["status"] = {"phase": "Active"}
        elif rt.kind == "Pod" and not rt.group:
            obj.setdefault("status", {}).setdefault("phase", "Pending")

    def _write(self, rt, key, current, new, *, subresource, manager, dry_run=False):
        new = copy.deepcopy(new)
        meta = current["metadata"]
        if subresource == "status":
            result = copy.deepcopy(current)
            result["status"] = new.get("status", {})
        elif subresource:
            raise not_found(rt, f"{key[2]}/{subresource}")
        else:
            result = new
            result["apiVersion"], result["kind"] = rt.api_version, rt.kind
            new_meta = result.setdefault("metadata", {})
            for field in ("uid", "creationTimestamp", "generation", "name", "namespace", "deletionTimestamp"):
                if field in meta:
                    new_meta[field] = meta[field]
            if rt.status_subresource:
                result.pop("status", None)
                if "status" in current:
                    result["status"] = current["status"]
            if manager:
                new_meta["managedFields"] = managed_fields_for_update(current, result, manager=manager, now=now_iso())
            else:
                new_meta["managedFields"] = meta.get("managedFields", [])
                if not new_meta["managedFields"]:
                    new_meta.pop("managedFields")
        return self._commit(rt, key, result, "MODIFIED", previous=current, dry_run=dry_run)

    def _apply(self, rt, namespace, name, body, *, subresource, manager, force, dry_run):
        if not manager:
            raise bad_request("PATCH with apply content type requires fieldManager")
        if not isinstance(body, dict):
            raise bad_request("apply body must be an object")
        body = copy.deepcopy(body)
        if body.get("apiVersion") != rt.api_version or body.get("kind") != rt.kind:
            raise bad_request(f"apiVersion and kind must be {rt.api_version} {rt.kind}, got "
                              f"{body.get('apiVersion')} {body.get('kind')}")
        meta = body.setdefault("metadata", {})
        if meta.get("name", name) != name:
            raise bad_request("the name of the object does not match the name on the URL")
        meta["name"] = name
        if subresource is None and rt.status_subresource:
            body.pop("status", None)
        key = (rt, namespace if rt.namespaced else None, name)
        current = copy.deepcopy(self._objects.get(key))
        if current is None:
            if subresource:
                raise not_found(rt, name)
            created = apply_merge(None, body, manager=manager, force=force, now=now_iso())
            fields = created["metadata"].pop("managedFields")
            obj = self.create(rt, namespace, created, dry_run=True)
            obj["metadata"]["managedFields"] = fields
            obj["metadata"].pop("resourceVersion", None)
            return self._commit(rt, (rt, obj["metadata"].get("namespace"), name), obj, "ADDED", dry_run=dry_run)
        _precondition_check(rt, name, body, current)
        result = apply_merge(current, body, manager=manager, force=force, now=now_iso())
        if subresource == "status":
            result = {**current, "status": result.get("status", {})}
        return self._commit(rt, key, result, "MODIFIED", previous=current, dry_run=dry_run)

    def _validate(self, rt, obj):
        name = obj["metadata"].get("name", "")
        pattern = _DNS_LABEL if rt.kind in _LABEL_NAMED_KINDS else _DNS_SUBDOMAIN
        limit = 63 if rt.kind in _LABEL_NAMED_KINDS else 253
        problems = []
        if not pattern.match(name) or len(name) > limit:
            problems.append(f'metadata.name: Invalid value: "{name}": a lowercase RFC 1123 '
                            f'{"label" if limit == 63 else "subdomain"} must consist of lower case alphanumeric '
                            "characters, '-' or '.', and must start and end with an alphanumeric character")
        body = {k: v for k, v in obj.items() if k != "metadata"}
        body["metadata"] = {}
        problems += crdschema.validate_object(body)
        if problems:
            raise invalid(rt, name, problems)

    def _commit(self, rt, key, obj, event_type, *, previous=None, dry_run=False):
        """Store `obj` unless nothing changed; bump resourceVersion, and generation when the spec changed."""
        meta = obj["metadata"]
        if previous is not None:
            meta["resourceVersion"] = previous["metadata"]["resourceVersion"]
            meta["generation"] = previous["metadata"].get("generation", 1)
            if obj == previous:
                return previous  # a no-op write changes nothing, as on a real API server
            if _spec_part(obj) != _spec_part(previous):
                meta["generation"] += 1
        self._validate(rt, obj)
        if previous is not None and (problems := update_problems(rt, previous, obj)):
            raise invalid(rt, meta.get("name", ""), problems)
        if dry_run:
            return obj
        if previous is not None and meta.get("deletionTimestamp") and not meta.get("finalizers"):
            self._objects[key] = obj
            return self._remove(key, cascade=True)
        self._rv += 1
        meta["resourceVersion"] = str(self._rv)
        self._objects[key] = obj
        self._notify(rt, {"type": event_type, "object": obj})
        return copy.deepcopy(obj)

    def _remove(self, key, *, cascade):
        rt = key[0]
        obj = self._objects.pop(key)
        self._rv += 1
        obj["metadata"]["resourceVersion"] = str(self._rv)
        self._notify(rt, {"type": "DELETED", "object": obj})
        if cascade:
            uid = obj["metadata"]["uid"]
            for other_key, other in list(self._objects.items()):
                owners = other["metadata"].get("ownerReferences") or []
                in_namespace = rt.kind == "Namespace" and not rt.group and other_key[1] == key[2]
                if other_key in self._objects and (in_namespace or any(o.get("uid") == uid for o in owners)):
                    self._remove(other_key, cascade=True)
        return copy.deepcopy(obj)

    # --- watch fan-out ---

    def watch_open(self, rt, namespace, *, labels, fields, since, loop, queue):
        """Register a watcher; returns the events to replay first (all objects, or history after `since`).

        A `since` older than the compacted history raises 410 Expired, which the server sends as an
        ERROR event (Kubernetes API concepts, "Efficient detection of changes", v1.31).
        """
        with self._lock:
            watcher = Watcher(rt, namespace, labels, fields, loop, queue)
            if since and since != "0":
                since = int(since)
                if since < self._compacted:
                    raise ApiError(410, "Expired", f"too old resource version: {since} ({self._compacted})")
                replay = [copy.deepcopy(ev) for rv, t, ev in self._history
                          if rv > since and watcher.wants(t, ev["object"])]
            else:
                items, _ = self.list(rt, namespace, labels=labels, fields=fields)
                replay = [{"type": "ADDED", "object": item} for item in items]
            self._watchers.add(watcher)
            return watcher, replay

    def watch_bookmark(self, watcher):
        """Queue a BOOKMARK at the current resourceVersion behind every event already queued for this
        watcher (same channel, so never ahead of one): the object carries only kind, apiVersion and
        metadata.resourceVersion (KEP-956, Watch bookmark; api-concepts "Watch bookmarks")."""
        with self._lock:
            rt = watcher.rt
            self._notify_one(watcher, {"type": "BOOKMARK", "object": {
                "kind": rt.kind, "apiVersion": rt.api_version, "metadata": {"resourceVersion": str(self._rv)}}})

    def compact(self):
        """Forget the event history (etcd compaction): watches resuming from an older resourceVersion get 410."""
        with self._lock:
            self._history.clear()
            self._compacted = self._rv

    def watches_drop(self):
        """Cut every open watch connection without ending its stream (a dropped connection, tests)."""
        with self._lock:
            for watcher in list(self._watchers):
                self._notify_one(watcher, DROP)
            self._watchers.clear()

    def watch_close(self, watcher):
        with self._lock:
            self._watchers.discard(watcher)

    def _notify(self, rt, event):
        event = copy.deepcopy(event)
        if len(self._history) == self._history.maxlen:
            self._compacted = self._history[0][0]  # that event falls out of the window
        self._history.append((self._rv, rt, event))
        for watcher in list(self._watchers):
            if watcher.wants(rt, event["object"]):
                self._notify_one(watcher, event)

    def _notify_one(self, watcher, event):
        try:
            watcher.loop.call_soon_threadsafe(watcher.queue.put_nowait, event)
        except RuntimeError:  # the loop is closed: that watch is over
            self._watchers.discard(watcher)
