"""Load: USERS concurrent users for SECONDS against the production server setup (gunicorn, 3 sync workers as
in the Dockerfile, DEBUG=0, a SECRET_KEY, SECURE_HTTPS=0), half on the API list with a token, half on the
dashboard with a session: requests, errors and p50/p95 per endpoint, on the bench_dashboard data.

The per-token API throttle is lifted for the run (API_THROTTLE_RATE): this measures capacity, not the throttle.
"""

import os
import secrets
import sys
import tempfile
import threading
import time
from pathlib import Path

USERS = int(os.environ.get("BENCH_LOAD_USERS", "20"))
SECONDS = float(os.environ.get("BENCH_LOAD_SECONDS", "20"))
GUNICORN_WORKERS = int(os.environ.get("BENCH_GUNICORN_WORKERS", "3"))
REQUEST_TIMEOUT = 60


def server_start(*, workdir, secret_key, workers=GUNICORN_WORKERS):
    """gunicorn on a free port with production settings; returns (process, base URL)."""
    import requests

    from .support import port_free, process_start, subprocess_env

    port = port_free()
    env = subprocess_env(DEBUG="0", SECRET_KEY=secret_key, SECURE_HTTPS="0",
                         ALLOWED_HOSTS="127.0.0.1,localhost", API_THROTTLE_RATE="1000000/min")
    base = f"http://127.0.0.1:{port}"

    def ready():
        try:
            requests.get(f"{base}/healthz", timeout=2)  # any answer: 503 only says the cluster is not set up
            return True
        except requests.RequestException:
            return False

    args = [sys.executable, "-m", "gunicorn", "portal.wsgi:application", "--bind", f"127.0.0.1:{port}",
            "--workers", str(workers), "--timeout", "60"]
    return process_start(args, env=env, log_path=Path(workdir) / "gunicorn.log", ready=ready, timeout=60), base


def _credentials(user, secret_key):
    from django.conf import settings
    from django.test import Client, override_settings

    from teams.services import token_create

    client = Client()
    with override_settings(SECRET_KEY=secret_key):  # the session is signed with the server's key
        client.force_login(user)  # a real session row, as a browser login would leave
    _, key = token_create(user=user, name=f"bench-load-{time.time():.0f}")
    return {settings.SESSION_COOKIE_NAME: client.cookies[settings.SESSION_COOKIE_NAME].value}, key


def load_run(base, *, user, secret_key, users=USERS, seconds=SECONDS):
    """{endpoint: {"requests", "errors", "p50", "p95", "error_samples"}} plus "rps"."""
    import requests

    from .support import p50, percentile

    cookies, key = _credentials(user, secret_key)
    targets = {
        "API list": (f"{base}/api/v1/deployments/", {"Authorization": f"Token {key}"}, {}),
        "dashboard": (f"{base}/", {}, cookies),
    }
    lock = threading.Lock()
    stats = {name: {"times": [], "errors": 0, "error_samples": []} for name in targets}
    stop_at = time.monotonic() + seconds

    def user_loop(index):
        name = list(targets)[index % len(targets)]
        url, headers, jar = targets[name]
        session = requests.Session()
        session.headers.update(headers)
        session.cookies.update(jar)
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            try:
                response = session.get(url, timeout=REQUEST_TIMEOUT, allow_redirects=False)
                error = None if response.status_code == 200 else f"HTTP {response.status_code}"
            except requests.RequestException as exc:
                error = type(exc).__name__
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                stats[name]["times"].append(elapsed)
                if error:
                    stats[name]["errors"] += 1
                    if len(stats[name]["error_samples"]) < 3:
                        stats[name]["error_samples"].append(error)

    threads = [threading.Thread(target=user_loop, args=(i,), daemon=True) for i in range(users)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + REQUEST_TIMEOUT + 5)
    wall = time.monotonic() - started
    out = {}
    for name, s in stats.items():
        out[name] = {"requests": len(s["times"]), "errors": s["errors"], "p50": p50(s["times"]),
                     "p95": percentile(s["times"], 0.95), "rps": len(s["times"]) / wall,
                     "error_samples": s["error_samples"]}
    return out


def run(*, user, users=USERS, seconds=SECONDS, workers=GUNICORN_WORKERS):
    from .support import process_stop

    with tempfile.TemporaryDirectory(prefix="gantry-bench-load-") as workdir:
        secret_key = secrets.token_urlsafe(40)
        proc, base = server_start(workdir=workdir, secret_key=secret_key, workers=workers)
        try:
            return load_run(base, user=user, secret_key=secret_key, users=users, seconds=seconds)
        finally:
            process_stop(proc)


def main():
    from .bench_dashboard import DEPLOYMENTS, _data_ensure
    from .support import django_setup, results_append

    django_setup()
    user = _data_ensure()
    results = run(user=user)
    for name, r in results.items():
        print(f"load {name}: {r['requests']} requests, {r['errors']} errors {r['error_samples']}, "
              f"p50 {r['p50']:.0f} ms, p95 {r['p95']:.0f} ms", flush=True)
    results_append(
        "bench_load",
        f"{USERS} concurrent users for {SECONDS:.0f} s (half on the API list with a token, half on the dashboard "
        f"with a session) against gunicorn ({GUNICORN_WORKERS} sync workers, DEBUG=0, SECURE_HTTPS=0) on the "
        f"bench database ({DEPLOYMENTS} deployments, 30 days of spend); the load generator runs on the same "
        "machine.",
        ["endpoint", "requests", "errors", "req/s", "p50 ms", "p95 ms"],
        [[name, r["requests"], r["errors"], f"{r['rps']:.1f}", f"{r['p50']:.0f}", f"{r['p95']:.0f}"]
         for name, r in results.items()],
    )


if __name__ == "__main__":
    main()
