"""gunicorn settings for the web role (Dockerfile, docker-compose.yml, k8s/base/web.yaml).

Several worker processes answer requests, so /metrics uses prometheus_client's multiprocess mode when
PROMETHEUS_MULTIPROC_DIR is set: the directory is emptied when the server starts and a dead worker's
files are marked (prometheus_client docs, "Multiprocess Mode (E.g. Gunicorn)"; the `on_starting` and
`child_exit` server hooks are gunicorn's, docs "Server Hooks").
"""

import os
import shutil

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
accesslog = "-"


def _metrics_dir():
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")


def on_starting(server):
    directory = _metrics_dir()
    if directory:
        shutil.rmtree(directory, ignore_errors=True)  # counts of an earlier run must not add up
        os.makedirs(directory, exist_ok=True)


def child_exit(server, worker):
    if _metrics_dir():
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
