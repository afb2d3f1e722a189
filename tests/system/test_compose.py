"""docker-compose.yml (Docker cannot run here: the file is read as Compose would, and the pieces it relies on run
for real): a sandbox service whose kubeconfig the portal's containers reach, the demo seeded only there, never
a mounted real kubeconfig, and healthchecks on web, worker and watcher that match the Kubernetes probes."""

import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from deployments.management.commands.seed_demo import SANDBOX_CLUSTER, kubeconfig_cluster
from tests.cluster_helpers import wait_for
from tests.k8s_helpers import one, rendered

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
PORTAL = ("migrate", "seed", "web", "worker", "beat", "watcher")


def _default(value):
    """Compose's ${NAME:-default} with NAME unset."""
    return re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", value)


def _args(command):
    return command.split() if isinstance(command, str) else command


def _flag(args, name):
    return args[args.index(name) + 1]


def test_the_portal_reads_the_kubeconfig_the_sandbox_writes():
    sandbox = _args(SERVICES["sandbox"]["command"])
    written = _flag(sandbox, "--kubeconfig")
    [shared] = [v for v in SERVICES["sandbox"]["volumes"] if written.startswith(v.split(":")[1] + "/")]
    for name in PORTAL:
        service = SERVICES[name]
        assert _default(service["environment"]["KUBECONFIG"]) == written, name
        assert f"{shared}:ro" in service["volumes"], name  # read-only for the portal
    # The URL in that kubeconfig is http://<--host>:<--port>: the service's name on the compose network.
    assert _flag(sandbox, "--host") == SERVICES["sandbox"]["hostname"] == "sandbox"
    assert SERVICES["sandbox"]["build"]["target"] == "sandbox"


def test_no_real_kubeconfig_is_mounted_or_used_unless_asked_for():
    for name in PORTAL:
        kube = [v for v in SERVICES[name]["volumes"] if v.endswith(":/kube:ro")]
        assert kube and "~" not in _default(kube[0]) and ".kube" not in _default(kube[0]).split(":")[0], name


def test_the_demo_is_seeded_after_the_sandbox_answers_and_the_portal_does_not_wait_for_it():
    seed = SERVICES["seed"]
    assert _args(seed["command"]) == ["python", "manage.py", "seed_demo"]
    assert seed["depends_on"] == {"migrate": {"condition": "service_completed_successfully"},
                                  "sandbox": {"condition": "service_healthy"}}
    assert "seed_demo" not in SERVICES["migrate"]["command"]
    for name in ("web", "worker", "beat", "watcher"):  # a real cluster runs these alone
        assert set(SERVICES[name]["depends_on"]) == {"migrate"}, name


def test_healthchecks_match_the_kubernetes_probes():
    web = " ".join(SERVICES["web"]["healthcheck"]["test"])
    assert "http://127.0.0.1:8000/readyz" in web
    docs = rendered()

    def probe(name, kind):
        [container] = one(docs, "Deployment", name)["spec"]["template"]["spec"]["containers"]
        return container[kind]["exec"]["command"][2]

    for service, deployment in (("worker", "gantry-worker"), ("watcher", "gantry-watcher")):
        kind, shell = SERVICES[service]["healthcheck"]["test"]
        assert kind == "CMD-SHELL"
        assert shell.replace("$$", "$") == probe(deployment, "livenessProbe"), service  # $$: Compose's escape
    assert "healthcheck" not in SERVICES["beat"]  # as in k8s/base/beat.yaml, which says why


@pytest.mark.slow
@pytest.mark.timeout(60)
def test_the_sandbox_names_its_host_in_the_kubeconfig_it_writes(tmp_path):
    """What the compose file relies on: `python -m sandbox --host NAME` writes http://NAME:port, in a kubeconfig
    seed_demo accepts. Here NAME is localhost, the name this machine has for itself."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    kubeconfig = tmp_path / "kubeconfig"
    proc = subprocess.Popen([sys.executable, "-m", "sandbox", "--host", "localhost", "--port", str(port),
                             "--kubeconfig", str(kubeconfig), "--no-simulator"],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)

    def written():
        try:
            return yaml.safe_load(kubeconfig.read_text())
        except (OSError, yaml.YAMLError):
            return None

    try:
        config = wait_for(written, timeout=40, message="the kubeconfig python -m sandbox writes")
        assert config["clusters"][0]["cluster"]["server"] == f"http://localhost:{port}"
        assert kubeconfig_cluster(str(kubeconfig)) == SANDBOX_CLUSTER
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(15)
