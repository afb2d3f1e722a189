"""The sandbox Kubernetes API: kmock's HTTP server, with every path answered here: discovery,
OpenAPI, /version and health (sandbox.nonresource), resource paths from sandbox.store, server-side
printing (sandbox.tables), a request log and fault injection.

kmock 0.8 cannot parse /api/v1/namespaces, answers 200 on create, serves "/v1" as the core
groupVersion and has no resourceVersion, selectors, apply or validation; only its server is used.
"""

import asyncio
import json
import logging
import re
import threading
import time

import aiohttp.web
import kmock
import yaml

from .errors import ApiError, bad_request
from .nonresource import nonresource_answer, review_answer
from .pod_logs import FOLLOW_LIMIT, FOLLOW_TRUE, ContainerLog
from .resources import resource_type_for_path
from .selectors import SelectorError, selector_parse
from .sim_metrics import METRICS_PATH, pods_metrics_text
from .store import DROP, Store
from .tables import table, table_version
from .traffic_log import FaultPlan, RequestLog

log = logging.getLogger("sandbox.server")

_ROUTE = re.compile(
    r"^/(?:api/(?P<core>v1)|apis/(?P<group>[^/]+)/(?P<version>[^/]+))"
    r"(?:/namespaces/(?P<namespace>[^/]+))?/(?P<plural>[^/]+)(?:/(?P<name>[^/]+)(?:/(?P<sub>[^/]+))?)?/?$")
_REASONS = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 405: "MethodNotAllowed",
            409: "Conflict", 410: "Expired", 422: "Invalid", 429: "TooManyRequests", 500: "InternalError",
            503: "ServiceUnavailable", 504: "Timeout"}
_PATCH_TYPES = {"application/merge-patch+json": "merge", "application/strategic-merge-patch+json": "strategic",
                "application/json-patch+json": "json", "application/apply-patch+yaml": "apply",
                "application/apply-patch+cbor": "apply"}


def _status_response(code, message, reason=None, headers=None):
    error = ApiError(code, reason or _REASONS.get(code, "Unknown"), message)
    return aiohttp.web.json_response(error.status(), status=code, headers=headers)


def route_parse(path):
    """(ResourceType or None, namespace, name, subresource) for a resource path; None otherwise."""
    match = _ROUTE.match(path)
    if not match:
        return None
    group, version = ("", "v1") if match["core"] else (match["group"], match["version"])
    namespace, plural, name, sub = match["namespace"], match["plural"], match["name"], match["sub"]
    rt = resource_type_for_path(group, version, plural)
    if namespace and rt is None and not group and name is None:
        # /api/v1/namespaces/<ns>/status reads as a namespace subresource.
        rt, name, sub, namespace = resource_type_for_path("", "v1", "namespaces"), namespace, plural, None
    if rt is not None and not rt.namespaced and namespace:
        rt = None
    return rt, namespace, name, sub


class SandboxHandler(kmock.KubernetesScaffold):
    bookmark_seconds = 60.0  # the API server sends a bookmark about once a minute (KEP-956)

    def __init__(self, *, store, request_log, faults):
        super().__init__()
        self.store, self.request_log, self.faults = store, request_log, faults

    async def __call__(self, raw_request):
        body = await raw_request.read()
        if raw_request.path != METRICS_PATH:
            # A real Prometheus scrapes the pods, never the API server: its scrapes (at any moment, whatever the
            # test is doing) stay out of the API server's request log.
            self.request_log.record(raw_request.method, raw_request.path, raw_request.query, raw_request.headers,
                                    body)
        fault = self.faults.take(raw_request.method, raw_request.path)
        if fault is not None:
            if fault.seconds:
                await asyncio.sleep(fault.seconds)
            if fault.action == "drop":
                raw_request.transport.abort()  # the client sees the connection reset, with no answer
                return aiohttp.web.Response(status=500)
            if fault.action == "status":
                headers = {"Retry-After": "1"} if fault.status == 429 else None
                return _status_response(fault.status, fault.message or "injected fault", headers=headers)
        try:
            if raw_request.path == METRICS_PATH:  # what queue-proxy and DCGM would export (sim_metrics)
                text = pods_metrics_text(self.store)
                return aiohttp.web.Response(text=text, content_type="text/plain", charset="utf-8",
                                            headers={"X-Content-Type-Options": "nosniff"})
            answer = await nonresource_answer(raw_request)
            if answer is not None:
                return answer
            route = route_parse(raw_request.path)
            if route is None or route[0] is None:
                raise ApiError(404, "NotFound", "the server could not find the requested resource")
            return await self._serve(raw_request, body, *route)
        except ApiError as exc:
            return aiohttp.web.json_response(exc.status(), status=exc.code)
        except SelectorError as exc:
            return _status_response(400, str(exc))
        except Exception as exc:  # a bug here must look like a server error to the client, not a hang
            log.exception("sandbox API failed on %s %s", raw_request.method, raw_request.path)
            return _status_response(500, f"sandbox internal error: {exc!r}")

    async def _serve(self, raw_request, body, rt, namespace, name, sub):
        query = raw_request.query
        method = raw_request.method.upper()
        dry_run = query.get("dryRun") == "All"
        manager = query.get("fieldManager")
        store = self.store
        as_table = table_version(raw_request.headers.get("Accept"))
        include = query.get("includeObject", "Metadata")
        if not rt.stored:
            if method != "POST" or name is not None:
                raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")
            return review_answer(rt, body)
        if method == "GET" and sub == "log" and rt.kind == "Pod":
            return await self._log(raw_request, rt, namespace, name)
        if method == "GET" and query.get("watch") in ("true", "1"):
            return await self._watch(raw_request, rt, namespace, name, as_table=as_table, include=include)
        if method == "GET" and name is None:
            labels, fields = selector_parse(query.get("labelSelector")), selector_parse(query.get("fieldSelector"))
            if as_table:
                items, rv = store.list(rt, namespace, labels=labels, fields=fields)
                return _json(table(rt, items, version=as_table, include=include, resource_version=rv))
            return aiohttp.web.Response(body=store.list_encoded(rt, namespace, labels=labels, fields=fields),
                                        content_type="application/json")
        if method == "GET":
            obj = store.get(rt, namespace, name)
            return _json(table(rt, [obj], version=as_table, include=include) if as_table else obj)
        if method == "POST" and name is None:
            return _json(store.create(rt, namespace, _parse_body(body), manager=manager, dry_run=dry_run), 201)
        if method == "PUT" and name is not None:
            data = _parse_body(body)
            return _json(store.replace(rt, namespace, name, data, subresource=sub, manager=manager, dry_run=dry_run))
        if method == "PATCH" and name is not None:
            content_type = raw_request.headers.get("Content-Type", "").split(";")[0].strip()
            patch_type = _PATCH_TYPES.get(content_type)
            if patch_type is None:
                raise ApiError(415, "UnsupportedMediaType", f"the body of the request was in an unknown format - "
                               f"accepted media types include: {', '.join(_PATCH_TYPES)}")
            existed = _exists(store, rt, namespace, name)
            obj = store.patch(rt, namespace, name, _parse_body(body, yaml_ok=patch_type == "apply"),
                              patch_type=patch_type, subresource=sub, manager=manager,
                              force=query.get("force") == "true", dry_run=dry_run)
            return _json(obj, 200 if existed or patch_type != "apply" else 201)
        if method == "DELETE":
            options = _parse_body(body) if body else {}
            propagation = query.get("propagationPolicy") or (options or {}).get("propagationPolicy")
            if name is None:
                items, rv = store.list(rt, namespace, labels=selector_parse(query.get("labelSelector")))
                deleted = [store.delete(rt, namespace, item["metadata"]["name"], propagation=propagation)
                           for item in items]
                return _json({"kind": f"{rt.kind}List", "apiVersion": rt.api_version,
                              "metadata": {"resourceVersion": store.resource_version}, "items": deleted})
            deleted = store.delete(rt, namespace, name, propagation=propagation, dry_run=dry_run)
            return _json(deleted if rt.returns_deleted or deleted["metadata"].get("deletionTimestamp")
                         else _delete_status(rt, deleted))
        raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")

    async def _log(self, raw_request, rt, namespace, name):
        """A pod's log; with ?follow=true the kubelet keeps the stream open and writes lines as they come,
        until the container stops or the client leaves (the sandbox also stops after FOLLOW_LIMIT)."""
        log_ = ContainerLog(self.store.get(rt, namespace, name), raw_request.query)
        now = time.time()
        text = log_.first(now)
        if raw_request.query.get("follow") not in FOLLOW_TRUE or log_.ended:
            return aiohttp.web.Response(text=text, content_type="text/plain")
        response = aiohttp.web.StreamResponse(headers={"Content-Type": "text/plain"})
        deadline = time.monotonic() + FOLLOW_LIMIT
        try:
            await response.prepare(raw_request)
            await response.write(text.encode())
            while time.monotonic() < deadline:
                await asyncio.sleep(0.2)
                transport = raw_request.transport
                if transport is None or transport.is_closing():
                    break
                try:
                    pod = self.store.get(rt, namespace, name)
                except ApiError:
                    break  # the pod is gone: the kubelet's stream ends with it
                later = time.time()
                lines = log_.lines(now, later)
                now = later
                if lines:
                    await response.write(log_.render(lines).encode())
                if _terminated(pod, log_.container["name"]):
                    break
            await response.write_eof()
        except (ConnectionError, RuntimeError):
            pass
        return response

    async def _watch(self, raw_request, rt, namespace, name, *, as_table=None, include="Metadata"):
        query = raw_request.query
        labels = selector_parse(query.get("labelSelector"))
        fields = selector_parse(query.get("fieldSelector"))
        if name:
            fields += selector_parse(f"metadata.name={name}")
        timeout = float(query.get("timeoutSeconds") or 1800)
        bookmarks = query.get("allowWatchBookmarks") in ("true", "1")
        queue = asyncio.Queue()
        response = aiohttp.web.StreamResponse(headers={"Content-Type": "application/json"})
        try:
            watcher, replay = self.store.watch_open(rt, namespace, labels=labels, fields=fields,
                                                    since=query.get("resourceVersion"),
                                                    loop=asyncio.get_running_loop(), queue=queue)
        except ApiError as exc:
            if exc.code != 410:
                raise
            # Once the request is accepted the API server answers an expired resourceVersion with
            # 200 and one ERROR event carrying the 410 Status (apiserver v1.31 storage/cacher
            # Watch: newErrWatcher), which client libraries turn into "relist".
            await response.prepare(raw_request)
            await response.write(json.dumps({"type": "ERROR", "object": exc.status()}).encode() + b"\n")
            await response.write_eof()
            return response
        deadline = time.monotonic() + timeout
        next_bookmark = time.monotonic() + self.bookmark_seconds
        dropped = False
        try:
            await response.prepare(raw_request)
            headers = True

            def encode(event):
                # A watch asked for as Table sends each object as a one-row Table; column definitions
                # come with the first event only (apiserver handlers/watch.go, tableOptions.NoHeaders).
                nonlocal headers
                if as_table and event["type"] not in ("ERROR", "BOOKMARK"):
                    event = {"type": event["type"], "object": table(rt, [event["object"]], version=as_table,
                                                                   include=include, headers=headers)}
                    headers = False
                return json.dumps(event).encode() + b"\n"

            for event in replay:
                await response.write(encode(event))
            while (remaining := deadline - time.monotonic()) > 0:
                transport = raw_request.transport
                if transport is None or transport.is_closing():
                    break  # the client went away
                if bookmarks and time.monotonic() >= next_bookmark:
                    self.store.watch_bookmark(watcher)
                    next_bookmark = time.monotonic() + self.bookmark_seconds
                try:
                    event = await asyncio.wait_for(queue.get(), min(remaining, 1.0, self.bookmark_seconds))
                except TimeoutError:
                    continue
                if event is None:
                    break  # the server is stopping or was reset
                if event == DROP:
                    dropped = True
                    raw_request.transport.abort()  # no end of stream: the client sees a broken connection
                    break
                await response.write(encode(event))
            if not dropped:
                await response.write_eof()
        except (ConnectionError, RuntimeError):
            pass
        finally:
            self.store.watch_close(watcher)
        return response


def _terminated(pod, container):
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    return any("terminated" in (cs.get("state") or {}) for cs in statuses if cs.get("name") == container)


def _delete_status(rt, deleted):
    """What the registry answers for a kind without ReturnDeletedObject (apiserver v1.31
    pkg/registry/generic/registry/store.go finalizeDelete: details.kind holds the resource)."""
    details = {"name": deleted["metadata"]["name"], "kind": rt.plural, "uid": deleted["metadata"]["uid"]}
    if rt.group:
        details["group"] = rt.group
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details}


def _exists(store, rt, namespace, name):
    try:
        store.get(rt, namespace, name)
        return True
    except ApiError:
        return False


def _parse_body(body, yaml_ok=False):
    try:
        return json.loads(body) if body else {}
    except ValueError:
        if yaml_ok:
            try:
                return yaml.safe_load(body)
            except yaml.YAMLError as exc:
                raise bad_request(f"error decoding YAML: {exc}") from exc
        raise bad_request("the request body is not valid JSON") from None


def _json(obj, status=200):
    return aiohttp.web.json_response(obj, status=status)


class SandboxServer:
    """The API served over HTTP on 127.0.0.1 from its own thread and asyncio loop."""

    def __init__(self, *, host="127.0.0.1", port=0, store=None, bookmark_seconds=None):
        self.host, self.requested_port = host, port
        self.bookmark_seconds = bookmark_seconds
        self.store = store or Store()
        self.request_log = RequestLog()
        self.faults = FaultPlan()
        self.port = None
        self._loop = None
        self._stopping = None
        self._thread = None
        self._ready = threading.Event()
        self._error = None

    @property
    def url(self):
        return f"http://{self.host}:{self.port}"

    def start(self):
        self._thread = threading.Thread(target=self._run, name="sandbox-api", daemon=True)
        self._thread.start()
        self._ready.wait(15)
        if self._error is not None:
            raise RuntimeError(f"sandbox API failed to start: {self._error}") from self._error
        if self.port is None:
            raise RuntimeError("sandbox API did not start within 15 seconds")
        log.info("sandbox API listening on %s", self.url)
        return self

    def stop(self):
        if self._loop is None or self._thread is None:
            return
        self.store.close()
        try:
            self._loop.call_soon_threadsafe(self._stopping.set)
        except RuntimeError:
            pass  # loop already closed
        self._thread.join(15)
        self._thread = None

    def _run(self):
        try:
            asyncio.run(self._main())
        except Exception as exc:  # reported to start(); the thread must not die silently
            self._error = exc
            self._ready.set()

    async def _main(self):
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        handler = SandboxHandler(store=self.store, request_log=self.request_log, faults=self.faults)
        if self.bookmark_seconds:
            handler.bookmark_seconds = self.bookmark_seconds
        async with handler, kmock.Server(handler, host=self.host, port=self.requested_port or None) as server:
            self.port = server.port
            self._ready.set()
            await self._stopping.wait()
