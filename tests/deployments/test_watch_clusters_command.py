"""`manage.py watch_clusters` as the Procfile and k8s/ run it: a real process, a real sandbox, the real database."""

import os
import signal
import subprocess
import sys
import time

import pytest
from django.conf import settings

from deployments.models import Deployment
from specs.vocabulary import Status
from tests.cluster_helpers import deployment_pushed, wait_for
from tests.worker_fixtures import PROJECT_DIR, _database_url

pytestmark = [pytest.mark.timeout(90), pytest.mark.slow]


def test_the_watcher_process_keeps_deployments_in_step_and_stops_on_sigterm(
        transactional_db, sandbox, sandbox_kubeconfig, deployer, tmp_path):
    log_path = tmp_path / "watcher.log"
    env = {**os.environ, "DATABASE_URL": _database_url(), "REDIS_URL": settings.REDIS_URL,
           "KUBECONFIG": sandbox_kubeconfig, "DEBUG": "1", "SECURE_HTTPS": "0", "STATUS_SYNC": "watch",
           "PYTHONUNBUFFERED": "1", "WATCHER_HEARTBEAT_FILE": str(tmp_path / "alive")}
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([sys.executable, "manage.py", "watch_clusters"], cwd=PROJECT_DIR, env=env,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for(lambda: "watching clusters" in log_path.read_text(), timeout=30, message="the watcher to start")
        d = deployment_pushed(deployer, name="chat")
        sandbox.simulator.tick()
        sandbox.simulator.advance(60)
        sandbox.simulator.tick()

        wait_for(lambda: Deployment.objects.get(pk=d.pk).status == Status.RUNNING, timeout=30,
                 message=f"chat running; watcher log:\n{log_path.read_text()[-3000:]}")
        assert Deployment.objects.get(pk=d.pk).ready_pods == 1
        # The file the liveness probes of k8s/ and docker-compose read (their command: its age under 60 s).
        assert time.time() - (tmp_path / "alive").stat().st_mtime < 60

        os.killpg(proc.pid, signal.SIGTERM)
        assert proc.wait(15) == 0
        assert "watcher stopped" in log_path.read_text()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
