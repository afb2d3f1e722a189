"""A real Celery worker for tests whose subject is the worker (registered in tests/conftest.py).

- `celery_worker_process`: starts `celery -A portal worker` (solo pool, default queue, embedded
  beat with a 1 s status sync) against the test database, the test's Redis and, when the test also
  uses `sandbox_kubeconfig`, the sandbox cluster. Yields a WorkerProcess (`.log()` for its output).
  Needs `transactional_db` (requested for you): the worker is another process and only sees
  committed rows.
- `celery_worker_factory(env=None, beat=True)`: the same, with extra environment variables
  (e.g. {"PUSH_RETRY_BASE_SECONDS": "0.1"}); at most a few per test, all stopped at teardown.

The default queue is purged before the worker starts, so messages left behind by earlier tests
(pushes queued against rows that no longer exist) are never picked up.
"""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings

PROJECT_DIR = Path(__file__).resolve().parent.parent
READY_TIMEOUT = 30
STOP_TIMEOUT = 10


def _database_url():
    db = settings.DATABASES["default"]
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


class WorkerProcess:
    def __init__(self, *, env, beat, workdir):
        self.workdir = workdir
        self.log_path = workdir / "worker.log"
        self.name = f"gantry-test-{uuid.uuid4().hex[:8]}@%h"
        args = [
            sys.executable, "-m", "celery", "-A", "portal", "worker",
            "-P", "solo", "-c", "1", "-Q", _default_queue(), "-n", self.name, "-l", "INFO",
            "--without-mingle", "--without-gossip", "--without-heartbeat",
        ]
        if beat:
            args += ["-B", "-s", str(workdir / "beat-schedule")]
        self.env = env
        self._log_file = open(self.log_path, "wb")  # noqa: SIM115 (closed in stop)
        self.proc = subprocess.Popen(
            args, cwd=PROJECT_DIR, env=env, stdout=self._log_file, stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def log(self):
        return self.log_path.read_text(errors="replace")

    def wait_ready(self):
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"celery worker exited with {self.proc.returncode}:\n{self.log()[-4000:]}")
            if " ready." in self.log():
                return self
            time.sleep(0.1)
        raise RuntimeError(f"celery worker not ready after {READY_TIMEOUT}s:\n{self.log()[-4000:]}")

    def stop(self):
        if self.proc.poll() is None:
            # Warm shutdown of our own process group (the worker and its embedded beat), by id.
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(STOP_TIMEOUT)
        self._log_file.close()


def _default_queue():
    from portal.celery import app

    return app.conf.task_default_queue or "celery"


def _queue_purge():
    from portal.celery import app

    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge(_default_queue())


@pytest.fixture
def celery_worker_factory(request, transactional_db, tmp_path):
    if "sandbox_kubeconfig" in request.fixturenames:
        request.getfixturevalue("sandbox_kubeconfig")  # so KUBECONFIG below is the sandbox's
    workers = []

    def start(env=None, beat=True):
        _queue_purge()
        full_env = {
            **os.environ,
            "DATABASE_URL": _database_url(),
            "REDIS_URL": settings.REDIS_URL,
            "KUBECONFIG": settings.KUBECONFIG or "",
            "DEBUG": "1",
            "SECURE_HTTPS": "0",
            "SYNC_INTERVAL_SECONDS": "1",
            # The worker's beat keeps the status by listing (the fallback); the watcher has tests of its own.
            "STATUS_SYNC": "list",
            "RECONCILE_INTERVAL_SECONDS": "5",
            "PUSH_RETRY_BASE_SECONDS": "0.2",
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
        }
        workdir = tmp_path / f"worker{len(workers)}"
        workdir.mkdir()
        worker = WorkerProcess(env=full_env, beat=beat, workdir=workdir)
        workers.append(worker)
        return worker.wait_ready()

    yield start
    for worker in workers:
        worker.stop()


@pytest.fixture
def celery_worker_process(celery_worker_factory):
    return celery_worker_factory()
