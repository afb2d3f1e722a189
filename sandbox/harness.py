"""SandboxCluster: the sandbox API (plus, optionally, the simulator) for tests and the demo.

    with SandboxCluster(simulate=True, time_scale=60) as sb:
        kubernetes.config.load_kube_config(config_file=sb.kubeconfig_path)

Its GPU nodes (sandbox.nodes): `nodes=` a list of GpuNode, by default one per catalog GPU class in LAS1;
reset() brings them back, nodes_set() replaces them until the next reset.
"""

import os
import tempfile

import yaml

from .nodes import gpu_nodes, nodes_replace
from .resources import resource_type
from .selectors import selector_parse
from .server import SandboxServer
from .simulator import Simulator
from .store import Store


def kubeconfig_write(path, url, *, name="gantry-sandbox"):
    """A kubeconfig the official client loads: one cluster, a dummy token user, current-context set."""
    config = {
        "apiVersion": "v1", "kind": "Config", "preferences": {},
        "clusters": [{"name": name, "cluster": {"server": url}}],
        "users": [{"name": f"{name}-user", "user": {"token": "sandbox-token"}}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": f"{name}-user", "namespace": "default"}}],
        "current-context": name,
    }
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    # Written aside, then renamed over the path: whoever waits for the file (the portal, kubectl, a test) never
    # reads it half written (seen once: the official client refused it as empty).
    partial = f"{path}.{os.getpid()}.partial"
    with open(partial, "w", encoding="utf-8") as fh:
        yaml.safe_dump(config, fh, sort_keys=False)
    os.replace(partial, path)
    return path


class SandboxCluster:
    def __init__(self, *, port=0, simulate=False, time_scale=1.0, tick_seconds=1.0, kubeconfig_path=None,
                 bookmark_seconds=None, nodes=None):
        self.store = Store()
        self.nodes = list(gpu_nodes() if nodes is None else nodes)
        nodes_replace(self.store, self.nodes)
        self.server = SandboxServer(port=port, store=self.store, bookmark_seconds=bookmark_seconds)
        self.simulator = Simulator(self.store, time_scale=time_scale)
        self.simulate = simulate
        self.tick_seconds = tick_seconds
        self._tmpdir = None
        self._kubeconfig_path = kubeconfig_path

    # --- lifecycle ---

    def start(self):
        self.server.start()
        if self._kubeconfig_path is None:
            self._tmpdir = tempfile.TemporaryDirectory(prefix="gantry-sandbox-")
            self._kubeconfig_path = os.path.join(self._tmpdir.name, "kubeconfig")
        kubeconfig_write(self._kubeconfig_path, self.url)
        if self.simulate:
            self.simulator.start(self.tick_seconds)
        return self

    def stop(self):
        self.simulator.stop()
        self.server.stop()
        if self._tmpdir is not None:
            self._tmpdir.cleanup()
            self._tmpdir = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def reset(self):
        """Fresh cluster state (with its GPU nodes), empty log, no faults: cheap isolation between tests."""
        self.faults_clear()
        self.simulator.reset()
        self.store.reset()
        nodes_replace(self.store, self.nodes)
        self.clear_log()

    def nodes_set(self, nodes):
        """Replace the cluster's GPU nodes (GpuNode list) until the next reset()."""
        nodes_replace(self.store, nodes)

    # --- where it is ---

    @property
    def url(self):
        return self.server.url

    @property
    def kubeconfig_path(self):
        return self._kubeconfig_path

    def api_client(self, *, retries=False):
        """An official-client ApiClient for this sandbox; no silent urllib3 retries by default."""
        import kubernetes

        configuration = kubernetes.client.Configuration()
        kubernetes.config.load_kube_config(config_file=self.kubeconfig_path, client_configuration=configuration)
        configuration.retries = retries
        return kubernetes.client.ApiClient(configuration)

    # --- request log ---

    @property
    def requests(self):
        """Every request so far, oldest first (method, path, query, headers, body, data, content_type)."""
        return self.server.request_log.all()

    def clear_log(self):
        self.server.request_log.clear()

    # --- fault injection (the first matching rule answers; method "*" matches any) ---

    def fail_next(self, method, path_regex, *, status=503, times=1, message=""):
        return self.server.faults.add(method, path_regex, "status", status=status, times=times, message=message)

    def drop_next(self, method, path_regex, *, times=1):
        return self.server.faults.add(method, path_regex, "drop", times=times)

    def delay(self, method, path_regex, seconds, *, times=None):
        return self.server.faults.add(method, path_regex, "delay", seconds=seconds, times=times)

    def faults_clear(self):
        self.server.faults.clear()

    def compact(self):
        """Forget the event history: a watch resuming from before now gets 410 Expired."""
        self.store.compact()

    def watches_drop(self):
        """Cut every open watch connection mid-stream, as a load balancer or a restarting API server does."""
        self.store.watches_drop()

    # --- state ---

    def objects(self, resource, namespace=None, label_selector=""):
        """Stored objects of a type ("pods", "services.serving.knative.dev", "argoproj.io/v1alpha1/workflows")."""
        return self.store.objects(resource_type(resource), namespace, selector_parse(label_selector))

    def backdate(self, resource, namespace, name, seconds):
        """Make a stored object older than it is, instead of a test sleeping past a whole second."""
        self.store.backdate(resource_type(resource), namespace, name, seconds)

    def object(self, resource, namespace, name):
        """One stored object, or None."""
        for obj in self.objects(resource, namespace):
            if obj["metadata"]["name"] == name:
                return obj
        return None
