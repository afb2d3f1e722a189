"""Shared by the benchmarks: Django setup on the bench database, machine facts, percentiles, RESULTS.md."""

import os
import platform
import socket
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
# A Redis database of its own, so the benchmark's queues never meet `make run`'s (db 0).
BENCH_REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")


def django_setup():
    """Point Django at the bench database (created and migrated on first use) and the bench Redis db."""
    import logging

    os.environ.setdefault("REDIS_URL", BENCH_REDIS)
    from . import bench_dashboard

    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)  # one line per sandbox request otherwise
    bench_dashboard._setup()


def machine():
    model = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs ({model}), Python {platform.python_version()}"


def percentile(values, q):
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def p50(values):
    return statistics.median(values) if values else float("nan")


def results_append(name, summary, header, rows):
    """One section per run: name, UTC date, machine, a line of context, a table."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [f"\n## {name} · {stamp}\n", f"{summary} Machine: {machine()}.\n\n",
             "| " + " | ".join(header) + " |\n", "|" + " --- |" * len(header) + "\n"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |\n" for row in rows]
    if not RESULTS.exists():
        lines.insert(0, "# Benchmark results\n")
    with RESULTS.open("a") as fh:
        fh.writelines(lines)


def port_free():
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if not 8000 <= port <= 8010:  # reserved for the demo
            return port


def database_url():
    from django.conf import settings

    db = settings.DATABASES["default"]
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def subprocess_env(**extra):
    from django.conf import settings

    return {**os.environ, "DATABASE_URL": database_url(), "REDIS_URL": settings.REDIS_URL,
            "PYTHONUNBUFFERED": "1", **{k: str(v) for k, v in extra.items()}}


def process_start(args, *, env, log_path, ready=None, timeout=30):
    """A child process in its own session (so it can be stopped as a group); waits for `ready()`."""
    log = open(log_path, "wb")  # noqa: SIM115 (closed with the process)
    proc = subprocess.Popen(args, cwd=PROJECT_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    proc.log_file = log
    deadline = time.monotonic() + timeout
    while ready is not None and not ready():
        if proc.poll() is not None or time.monotonic() > deadline:
            process_stop(proc)
            raise RuntimeError(f"{args[2:5]} did not start:\n{Path(log_path).read_text(errors='replace')[-3000:]}")
        time.sleep(0.1)
    return proc


def process_stop(proc, timeout=10):
    import signal

    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout)
    proc.log_file.close()


def worker_start(*, log_path, env=None, concurrency=2):
    """`celery worker` as Procfile runs it (prefork, 2 processes), without beat: only the pushes are timed."""
    from portal.celery import app

    with app.connection_for_write() as conn:  # messages left by an aborted run must not be timed
        conn.default_channel.queue_purge(app.conf.task_default_queue or "celery")
    args = [sys.executable, "-m", "celery", "-A", "portal", "worker", "-c", str(concurrency), "-l", "INFO",
            "--without-mingle", "--without-gossip", "--without-heartbeat", "-n", f"bench-{os.getpid()}@%h"]
    return process_start(args, env=subprocess_env(**(env or {})), log_path=log_path,
                         ready=lambda: " ready." in Path(log_path).read_text(errors="replace"))
