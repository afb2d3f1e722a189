"""The connection to a Kubernetes API: configuration, one HTTP call, one error type.

The client comes from configuration only. Every call takes an optional `cluster=`
(a ClusterRef: a kubeconfig path and context, or in-cluster, resolved from the
Cluster records by clusters/selectors.py); without one, the default: the
kubeconfig at settings.KUBECONFIG (read at call time, so tests and `make run`
point it at the sandbox), else the in-cluster service account, else "no
cluster configured". One ApiClient per connection, cached. Nothing patches it.

Every failure leaves this module as ClusterError(message, permanent):
permanent when retrying cannot help (400, 401, 403, 404 for a type the cluster
does not serve, 409, 422 ...) carrying the API server's own message; transient
for 429, 5xx, timeouts and dropped connections, which the push task retries.
"""

import json
import logging
import os
import threading
from dataclasses import dataclass

import orjson
import urllib3
from django.conf import settings
from kubernetes import client as k8s_client
from kubernetes import config as k8s_config
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException

log = logging.getLogger(__name__)

_IN_CLUSTER_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token"
_PERMANENT_STATUSES = {400, 401, 403, 404, 405, 409, 410, 415, 422}


class ClusterError(Exception):
    def __init__(self, message, permanent=False):
        super().__init__(message)
        self.message = message
        self.permanent = permanent


class NotFound(ClusterError):
    """404: the object (or its type) is not there. Callers that expect absence catch it."""

    def __init__(self, message):
        super().__init__(message, permanent=True)


@dataclass(frozen=True)
class ClusterRef:
    """How to reach one cluster: where its credentials are mounted, never the credentials themselves.

    `kubeconfig`: a kubeconfig file (a mounted Secret's path, say), with `context` picking one of its
    contexts ("" its current-context); `in_cluster`: the service account of the pod Gantry runs in.
    """

    name: str
    kubeconfig: str = ""
    context: str = ""
    in_cluster: bool = False


_clients = {}
_clients_lock = threading.Lock()
# A forked worker child must not share the parent's sockets: it builds its own client.
os.register_at_fork(after_in_child=_clients.clear)


def _configuration_new():
    configuration = k8s_client.Configuration()
    # urllib3 would otherwise retry silently (and twice for a GET): retries belong to the task.
    configuration.retries = False
    return configuration


def default_cluster_configured():
    """Whether the default cluster (settings.KUBECONFIG, else the in-cluster service account) is set up."""
    return bool(settings.KUBECONFIG) or _in_cluster_available()


def _in_cluster_available():
    return os.path.exists(_IN_CLUSTER_TOKEN) and bool(os.environ.get("KUBERNETES_SERVICE_HOST"))


def _connection(cluster):
    """(kubeconfig path, context) or (None, None) for in-cluster; ClusterError when there is neither."""
    if cluster is None:
        path, context = settings.KUBECONFIG, getattr(settings, "KUBE_CONTEXT", "") or None
        if path or _in_cluster_available():
            return path or None, context
        raise ClusterError("no cluster configured", permanent=True)
    if cluster.in_cluster:
        if not _in_cluster_available():
            raise ClusterError(f"cluster {cluster.name}: Gantry is not running inside a cluster", permanent=True)
        return None, None
    if not cluster.kubeconfig:
        raise ClusterError(f"cluster {cluster.name}: no kubeconfig path", permanent=True)
    return cluster.kubeconfig, cluster.context or None


def api_client(cluster=None):
    """The ApiClient for a cluster (None: the configured default), cached per kubeconfig file (and its mtime)
    and context: two clusters are two clients, each with its own configuration and connection pool."""
    path, context = _connection(cluster)
    if path:
        try:
            key = (path, context, os.stat(path).st_mtime_ns)
        except OSError as exc:
            raise ClusterError(f"kubeconfig {path}: {exc.strerror}", permanent=True) from exc
    else:
        key = ("in-cluster",)
    with _clients_lock:
        cached = _clients.get(key)
        if cached is not None:
            return cached
        configuration = _configuration_new()
        try:
            if path:
                # A Configuration of its own (never the process-wide default), so clusters never share one.
                k8s_config.load_kube_config(
                    config_file=path, context=context, client_configuration=configuration, persist_config=False
                )
            else:
                k8s_config.load_incluster_config(client_configuration=configuration)
        except (ConfigException, OSError, ValueError, TypeError) as exc:
            raise ClusterError(f"cannot load cluster configuration: {exc}", permanent=True) from exc
        configuration.retries = False
        cached = k8s_client.ApiClient(configuration=configuration)
        _clients[key] = cached
        return cached


def _server_message(exc):
    """The API server's own message from a Status body, else the HTTP reason."""
    try:
        body = json.loads(exc.body or "")
    except (TypeError, ValueError):
        body = None
    if isinstance(body, dict) and body.get("message"):
        return body["message"]
    return f"HTTP {exc.status} {exc.reason or ''}".strip()


def _open(method, path, *, query=None, body=None, content_type=None, accept="application/json", timeout=None,
          prefix="", cluster=None):
    """Send one request; the response, unread, once its status is 2xx. Raises ClusterError (NotFound for 404)."""
    api = api_client(cluster)
    headers = {"Accept": accept}
    if body is not None:
        headers["Content-Type"] = content_type or "application/json"
    try:
        prepared = api.param_serialize(
            method=method,
            resource_path=path,
            query_params=list((query or {}).items()),
            header_params=headers,
            body=body,
            auth_settings=["BearerToken"],
        )
        response = api.call_api(*prepared, _request_timeout=timeout or settings.KUBE_REQUEST_TIMEOUT)
        if not 200 <= response.status <= 299:
            data = response.read()
            raise ApiException(
                status=response.status, reason=response.reason, body=data.decode("utf-8", "replace")
            )
        return response
    except ApiException as exc:
        if exc.status == 0:  # raised by the client itself (TLS trouble and the like)
            raise ClusterError(f"{prefix}{exc.reason}", permanent=False) from exc
        message = f"{prefix}{_server_message(exc)}"
        if exc.status == 404:
            raise NotFound(message) from exc
        permanent = exc.status in _PERMANENT_STATUSES or (400 <= exc.status < 500 and exc.status != 429)
        raise ClusterError(message, permanent=permanent) from exc
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise unreachable(exc, prefix) from exc


def unreachable(exc, prefix=""):
    """Timeouts, refused or dropped connections: the API server may be back in a moment."""
    return ClusterError(f"{prefix}cannot reach the Kubernetes API ({type(exc).__name__}: {exc})")


def request(method, path, *, query=None, body=None, content_type=None, what="", cluster=None, timeout=None,
            decode=orjson.loads):
    """One HTTP call; returns the decoded JSON body. Raises ClusterError (NotFound for 404).
    `timeout`: seconds (or (connect, read)), settings.KUBE_REQUEST_TIMEOUT without one. `decode`: bytes -> the
    body (ValueError for what is not JSON); orjson's by default."""
    prefix = f"{what}: " if what else ""
    response = _open(method, path, query=query, body=body, content_type=content_type, prefix=prefix,
                     cluster=cluster, timeout=timeout)
    try:
        data = response.read()
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise unreachable(exc, prefix) from exc
    if not data:
        return {}
    try:
        return decode(data)  # orjson: lists of thousands of pods several times faster than json
    except ValueError as exc:
        raise ClusterError(f"{prefix}the Kubernetes API answered with something that is not JSON") from exc


def request_stream(path, *, query=None, timeout=None, what="", cluster=None):
    """A GET whose body is not JSON (a log): the open urllib3 response, for the caller to read in pieces
    and release. `timeout` is (connect, read) seconds. Raises ClusterError (NotFound for 404)."""
    prefix = f"{what}: " if what else ""
    return _open("GET", path, query=query, accept="*/*", timeout=timeout, prefix=prefix, cluster=cluster).response
