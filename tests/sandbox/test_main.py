"""`python -m sandbox` runs the API with a kubeconfig the official client loads, and stops on SIGTERM."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import kubernetes
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.timeout(30)
def test_python_m_sandbox_serves_and_stops_cleanly(tmp_path):
    kubeconfig = tmp_path / "kubeconfig"
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "sandbox", "--port", str(port), "--kubeconfig", str(kubeconfig)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        deadline = time.monotonic() + 15
        while not kubeconfig.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        configuration = kubernetes.client.Configuration()
        kubernetes.config.load_kube_config(config_file=str(kubeconfig), client_configuration=configuration)
        assert configuration.host == f"http://127.0.0.1:{port}"
        with kubernetes.client.ApiClient(configuration) as api:
            assert kubernetes.client.VersionApi(api).get_code().major == "1"
            names = [ns.metadata.name for ns in kubernetes.client.CoreV1Api(api).list_namespace().items]
        assert "default" in names
    finally:
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=15)
    assert proc.returncode == 0, output
    assert "sandbox stopped" in output


@pytest.mark.timeout(30)
def test_the_sandbox_refuses_to_start_without_the_crd_schemas(tmp_path):
    # Accepting every custom resource unchecked would let Gantry's mistakes through to a real cluster.
    proc = subprocess.run([sys.executable, "-m", "sandbox", "--port", str(_free_port()),
                           "--kubeconfig", str(tmp_path / "kubeconfig")],
                          cwd=ROOT, capture_output=True, text=True, timeout=20,
                          env={**os.environ, "CRDS_DIR": str(tmp_path / "nowhere")})
    assert proc.returncode == 2
    assert "CRDs are missing" in proc.stderr and "CRDS_DIR" in proc.stderr
    assert not (tmp_path / "kubeconfig").exists()


def test_validation_without_the_crds_fails_and_says_where_to_put_them(tmp_path, monkeypatch):
    from sandbox import crdschema

    monkeypatch.setenv("CRDS_DIR", str(tmp_path))
    crdschema.load_schema.cache_clear()
    crdschema.crd_version.cache_clear()
    try:
        with pytest.raises(crdschema.CrdsMissing, match="shared/crds folder next to this checkout"):
            crdschema.validate_object({"apiVersion": "serving.knative.dev/v1", "kind": "Service"})
    finally:
        crdschema.load_schema.cache_clear()
        crdschema.crd_version.cache_clear()
