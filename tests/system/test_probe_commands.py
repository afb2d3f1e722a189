"""The exec probes of k8s/base (and docker-compose's healthchecks, the same commands) run for real: the worker's
`celery inspect ping` against a live worker and after it stopped, the watcher's heartbeat check on a fresh, a
stale and a missing file."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

from tests.cluster_helpers import wait_for
from tests.k8s_helpers import one, rendered

ROOT = Path(__file__).resolve().parents[2]
HEARTBEAT = "/tmp/gantry-watcher-heartbeat"


def _probe(deployment, kind="livenessProbe"):
    [container] = one(rendered(), "Deployment", deployment)["spec"]["template"]["spec"]["containers"]
    return container[kind]["exec"]["command"]


def _run(command, env=None, timeout=60):
    return subprocess.run(command, cwd=ROOT, env={**os.environ, **(env or {})}, capture_output=True, text=True,
                          timeout=timeout)


def test_the_watcher_probe_passes_on_a_fresh_heartbeat_only(tmp_path):
    beat = tmp_path / "heartbeat"
    for kind in ("startupProbe", "livenessProbe"):
        command = _probe("gantry-watcher", kind)
        assert HEARTBEAT in command[2]
        command = [*command[:2], command[2].replace(HEARTBEAT, str(beat))]
        assert _run(command).returncode != 0  # not written yet
        beat.touch()
        assert _run(command).returncode == 0
        stale = time.time() - 61
        os.utime(beat, (stale, stale))
        assert _run(command).returncode != 0  # the loop stopped touching it a minute ago
        beat.unlink()


@pytest.mark.slow
@pytest.mark.worker
@pytest.mark.timeout(120)
def test_the_worker_probe_passes_while_its_worker_answers(tmp_path):
    host = socket.gethostname()
    # The image's PATH starts with its venv, as this one does with the project's.
    env = {"DEBUG": "1", "SECURE_HTTPS": "0", "REDIS_URL": settings.REDIS_URL, "HOSTNAME": host,
           "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    log = tmp_path / "worker.log"
    # The default node name, celery@<host name>, as in the pod; a queue of its own so it runs no other test's task.
    with open(log, "wb") as out:
        worker = subprocess.Popen([sys.executable, "-m", "celery", "-A", "portal", "worker", "-P", "solo", "-c", "1",
                                   "-Q", f"probe-{os.getpid()}", "-l", "INFO", "--without-mingle",
                                   "--without-gossip"],
                                  cwd=ROOT, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT,
                                  start_new_session=True)
    try:
        wait_for(lambda: " ready." in log.read_text(errors="replace") or worker.poll() is not None, timeout=60,
                 message="the worker to start")
        assert worker.poll() is None, log.read_text()
        alive = _run(_probe("gantry-worker"), env)
        assert alive.returncode == 0, alive.stdout + alive.stderr
        assert f"celery@{host}: OK" in alive.stdout
        assert _run(_probe("gantry-worker"), {**env, "HOSTNAME": "another-pod"}).returncode != 0  # only its own
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(30)
    gone = _run(_probe("gantry-worker"), env)
    assert gone.returncode != 0 and "No nodes replied" in gone.stdout + gone.stderr
