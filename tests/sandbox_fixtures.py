"""Pytest fixtures for the sandbox Kubernetes API (registered from tests/conftest.py).

- `sandbox_server`: one SandboxCluster per test session (the HTTP server is started once).
- `sandbox`: that cluster reset to a fresh state for this test (empty log, no faults,
  default namespaces only); the simulator does not run on its own, call
  `sandbox.simulator.tick()` / `.advance(seconds)`.
- `sandbox_simulated`: `sandbox` with the simulator ticking in the background
  (every 0.1 s, 60 simulated seconds per real second) for end-to-end tests.
- `sandbox_kubeconfig`: `sandbox`'s kubeconfig path, also set as settings.KUBECONFIG.
- `sandbox_server_b` / `sandbox_b`: a second, independent cluster (its own server, store and
  kubeconfig file) for the multi-cluster tests; reset like `sandbox`.
"""

import pytest

from sandbox import SandboxCluster


@pytest.fixture(scope="session")
def sandbox_server():
    cluster = SandboxCluster()
    cluster.start()
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def sandbox_server_b():
    cluster = SandboxCluster()
    cluster.start()
    yield cluster
    cluster.stop()


def _fresh(server):
    server.simulator.stop()
    server.simulator.time_scale = 1.0
    server.reset()
    yield server
    server.simulator.stop()
    server.faults_clear()


@pytest.fixture
def sandbox(sandbox_server):
    yield from _fresh(sandbox_server)


@pytest.fixture
def sandbox_b(sandbox_server_b):
    yield from _fresh(sandbox_server_b)


@pytest.fixture
def sandbox_simulated(sandbox):
    sandbox.simulator.time_scale = 60.0
    sandbox.simulator.reset()
    sandbox.simulator.start(interval=0.1)
    yield sandbox
    sandbox.simulator.stop()


@pytest.fixture
def sandbox_kubeconfig(sandbox, settings):
    settings.KUBECONFIG = sandbox.kubeconfig_path
    return sandbox.kubeconfig_path
