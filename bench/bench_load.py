"""Load: USERS concurrent users against gunicorn as the web role runs it (portal/gunicorn_conf.py: WEB_CONCURRENCY
sync workers, 3 by default; DEBUG=0, a SECRET_KEY, /metrics in multiprocess mode), on the 2-core machine, for
three endpoints each on its own: the API list (a token, 50 a page), the dashboard (a session) and create
(`POST /api/v1/deployments/`), on bench_dashboard's data (the team of 10,000 deployments with a month of spend,
at month end: gunicorn runs bench/clock_wsgi.py, the same app with the benchmarks' clock).

Before and after: with BENCH_LOAD_BEFORE set to a git revision (default BEFORE, the last commit before issue
18's changes), that revision's code (`git archive`, nothing in the work tree changes) runs as a second server on
a copy of the bench database taken back to that revision's schema (the current migrations unapplied down to the
revision's latest), and each round loads before and after in turn (SECONDS each, the order alternating), so
both see the same data and the same machine. BENCH_LOAD_BEFORE= (empty) measures the current code only.

The per-token API throttle is lifted (API_THROTTLE_RATE): this measures capacity, not the throttle. The load
generator (threads in this process) shares the machine's 2 cores with the servers, as any local load test does.
The deployments the creates make are removed after each phase, so the team stays at its size.
"""

import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

USERS = int(os.environ.get("BENCH_LOAD_USERS", "20"))
SECONDS = float(os.environ.get("BENCH_LOAD_SECONDS", "15"))
ROUNDS = int(os.environ.get("BENCH_LOAD_ROUNDS", "2"))
BEFORE = os.environ.get("BENCH_LOAD_BEFORE", "3a95e36")
REQUEST_TIMEOUT = 60
ENDPOINTS = ("API list", "dashboard", "create")
CREATE_PREFIX = "load-"


def tree_export(revision, workdir):
    """The project's files at `revision`, from git's objects, in a directory of their own; with the clock app."""
    from .support import PROJECT_DIR

    target = Path(workdir) / f"gantry-{revision}"
    target.mkdir()
    archive = subprocess.run(["git", "-C", str(PROJECT_DIR), "archive", "--format=tar", revision],
                             check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    shutil.copy(Path(__file__).with_name("clock_wsgi.py"), target / "bench" / "clock_wsgi.py")
    return target


def database_before(code_dir):
    """A copy of the bench database with the schema of the code in `code_dir` (the current code's migrations,
    which know how to go back, unapplied down to each app's latest migration there); its URL. The copy is a
    template copy, so it holds the same rows, sessions and tokens."""
    import psycopg
    from django.db import connection

    from .support import PROJECT_DIR, database_url, subprocess_env

    source = connection.settings_dict["NAME"]
    name = f"{source}_before"
    admin = database_url().rsplit("/", 1)[0] + "/postgres"
    connection.close()  # a template must have no other connection
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{source}"')
    url = database_url().rsplit("/", 1)[0] + f"/{name}"
    for migrations in sorted(Path(PROJECT_DIR).glob("*/migrations")):
        now = {p.stem for p in migrations.glob("0*.py")}
        then = {p.stem for p in (Path(code_dir) / migrations.relative_to(PROJECT_DIR)).glob("0*.py")}
        if now - then:
            target = max(then) if then else "zero"
            subprocess.run([sys.executable, "manage.py", "migrate", migrations.parent.name, target, "-v", "0"],
                           cwd=PROJECT_DIR, env={**subprocess_env(), "DATABASE_URL": url}, check=True)
    return url


def database_drop(url):
    import psycopg

    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


def server_start(*, workdir, secret_key, clock_offset, code_dir=None, name="after", database=None):
    """gunicorn with the web role's config on a free port; returns (process, base URL)."""
    import requests

    from .support import PROJECT_DIR, port_free, process_start, subprocess_env

    code_dir = Path(code_dir or PROJECT_DIR)
    port = port_free()
    metrics = Path(workdir) / f"metrics-{name}"
    env = subprocess_env(DEBUG="0", SECRET_KEY=secret_key, SECURE_HTTPS="0", ALLOWED_HOSTS="127.0.0.1,localhost",
                         API_THROTTLE_RATE="1000000/min", GUNICORN_BIND=f"127.0.0.1:{port}",
                         PROMETHEUS_MULTIPROC_DIR=str(metrics), BENCH_CLOCK_OFFSET=clock_offset,
                         PYTHONPATH=str(code_dir))
    if database:
        env["DATABASE_URL"] = database
    base = f"http://127.0.0.1:{port}"
    # As the image build does (Dockerfile): with DEBUG=0 a page naming a static file missing from the manifest is a 500.
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=code_dir, env=env,
                   check=True)

    def ready():
        try:
            requests.get(f"{base}/healthz", timeout=2)  # any answer: 503 only says the cluster is not set up
            return True
        except requests.RequestException:
            return False

    args = [sys.executable, "-m", "gunicorn", "-c", str(code_dir / "portal" / "gunicorn_conf.py"),
            "--chdir", str(code_dir), "--timeout", "60", "bench.clock_wsgi:application"]
    # Started in code_dir: `python -m` puts the working directory first on sys.path, so that tree's code runs.
    proc = process_start(args, env=env, log_path=Path(workdir) / f"gunicorn-{name}.log", ready=ready, timeout=90,
                         cwd=code_dir)
    return proc, base


def credentials(user, secret_key):
    """(session cookies, API token) for the user, valid on any server with this SECRET_KEY."""
    from django.conf import settings
    from django.test import Client, override_settings

    from teams.services import token_create

    client = Client()
    with override_settings(SECRET_KEY=secret_key):  # the session is signed with the server's key
        client.force_login(user)  # a real session row, as a browser login would leave
    _, key = token_create(user=user, name=f"bench-load-{time.time():.0f}")
    return {settings.SESSION_COOKIE_NAME: client.cookies[settings.SESSION_COOKIE_NAME].value}, key


def _create_body(team_slug, name):
    from .bench_push import SPEC

    return {**SPEC, "team": team_slug, "name": name}


def phase(base, endpoint, *, cookies, key, team_slug, tag, users=USERS, seconds=SECONDS):
    """USERS threads on one endpoint for `seconds`: {"times": [ms of the answered ones], "ok", "errors",
    "error_samples", "wall"}."""
    import requests

    token = {"Authorization": f"Token {key}"}
    lock = threading.Lock()
    stats = {"times": [], "ok": 0, "errors": 0, "error_samples": []}
    stop_at = time.monotonic() + seconds

    def user_loop(index):
        session = requests.Session()
        session.cookies.update(cookies if endpoint == "dashboard" else {})
        session.headers.update({} if endpoint == "dashboard" else token)
        sent = 0
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            try:
                if endpoint == "create":
                    body = _create_body(team_slug, f"{CREATE_PREFIX}{tag}-{index:02d}-{sent:04d}")
                    response = session.post(f"{base}/api/v1/deployments/", json=body, timeout=REQUEST_TIMEOUT)
                    ok = response.status_code == 201
                else:
                    path = "/" if endpoint == "dashboard" else "/api/v1/deployments/"
                    response = session.get(base + path, timeout=REQUEST_TIMEOUT, allow_redirects=False)
                    ok = response.status_code == 200
                error = None if ok else f"HTTP {response.status_code} {response.text[:120]}"
            except requests.RequestException as exc:
                error = type(exc).__name__
            sent += 1
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                if error:
                    stats["errors"] += 1
                    if len(stats["error_samples"]) < 3:
                        stats["error_samples"].append(error)
                else:  # req/s and the percentiles count the requests answered as asked
                    stats["ok"] += 1
                    stats["times"].append(elapsed)

    threads = [threading.Thread(target=user_loop, args=(i,), daemon=True) for i in range(users)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + REQUEST_TIMEOUT + 5)
    stats["wall"] = time.monotonic() - started
    return stats


def _created_remove(team):
    """The deployments the creates made (on both databases), and the pushes they queued (no worker runs here)."""
    from django.db import connections

    from deployments.models import Deployment
    from portal.celery import app

    for alias in connections:
        Deployment.objects.using(alias).filter(team_id=team.pk, name__startswith=CREATE_PREFIX).delete()
    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge(app.conf.task_default_queue or "celery")


def _database_alias(url):
    """The copy as a second Django database ("before"), for the cleanup between create phases."""
    from django.db import connections

    connections.databases["before"] = {**connections.databases["default"], "NAME": url.rsplit("/", 1)[1]}


def run(data, *, before=BEFORE, rounds=ROUNDS, users=USERS, seconds=SECONDS):
    """{side: {endpoint: stats over the rounds}} for "after" and, with a `before` revision, "before"."""
    from .support import clock_offset, process_stop

    team = data["team"]
    _created_remove(team)
    with tempfile.TemporaryDirectory(prefix="gantry-bench-load-") as workdir:
        secret_key = secrets.token_urlsafe(40)
        offset = clock_offset()
        cookies, key = credentials(data["user"], secret_key)  # before the copy: valid on both databases
        servers, before_db = {}, None
        try:
            if before:
                code = tree_export(before, workdir)
                before_db = database_before(code)
                _database_alias(before_db)
                servers["before"] = server_start(workdir=workdir, secret_key=secret_key, clock_offset=offset,
                                                 code_dir=code, name="before", database=before_db)
            servers["after"] = server_start(workdir=workdir, secret_key=secret_key, clock_offset=offset)
            out = {side: {e: {"times": [], "ok": 0, "errors": 0, "error_samples": [], "wall": 0.0}
                          for e in ENDPOINTS} for side in servers}
            sides = sorted(servers)
            for r in range(rounds):
                for endpoint in ENDPOINTS:
                    for side in sides if r % 2 == 0 else sides[::-1]:
                        stats = phase(servers[side][1], endpoint, cookies=cookies, key=key, team_slug=team.slug,
                                      tag=f"{side}{r}", users=users, seconds=seconds)
                        total = out[side][endpoint]
                        total["times"] += stats["times"]
                        total["ok"] += stats["ok"]
                        total["errors"] += stats["errors"]
                        total["wall"] += stats["wall"]
                        total["error_samples"] = (total["error_samples"] + stats["error_samples"])[:3]
                        if endpoint == "create":
                            _created_remove(team)
                        print(f"load round {r + 1} {side} {endpoint}: {stats['ok']} answered, "
                              f"{stats['errors']} errors", flush=True)
            return out
        finally:
            for proc, _ in servers.values():
                process_stop(proc)
            _created_remove(team)
            if before_db:
                from django.db import connections

                connections["before"].close()
                del connections.databases["before"]
                database_drop(before_db)


def main():
    from .bench_dashboard import DEPLOYMENTS, data_ensure
    from .support import django_setup, month_end_clock, p50, percentile, results_append

    django_setup()
    with month_end_clock():
        from django.utils import timezone

        data = data_ensure(timezone.now())
        results = run(data)
    rows, goals = [], {}
    for endpoint in ENDPOINTS:
        for side, by_endpoint in sorted(results.items(), key=lambda kv: kv[0] != "before"):
            r = by_endpoint[endpoint]
            rps = len(r["times"]) / r["wall"] if r["wall"] else 0.0
            r.update(rps=rps, p50=p50(r["times"]), p95=percentile(r["times"], 0.95))
            rows.append([endpoint, side, r["ok"], r["errors"], f"{rps:.1f}", f"{r['p50']:.0f}",
                         f"{r['p95']:.0f}", "; ".join(r["error_samples"])])
            print(f"load {endpoint} {side}: {rows[-1][2]} requests, {r['errors']} errors, {rps:.1f} req/s, "
                  f"p50 {r['p50']:.0f} ms, p95 {r['p95']:.0f} ms", flush=True)
        now, then = results["after"][endpoint], results.get("before", {}).get(endpoint)
        measured = f"{now['rps']:.1f} req/s, p95 {now['p95']:.0f} ms" + (
            f" (before: {then['rps']:.1f} req/s, p95 {then['p95']:.0f} ms)" if then else "")
        ratio = f"{now['rps'] / then['rps']:.2f}× the req/s before" if then and then["rps"] else ""
        key = {"API list": "load-list", "dashboard": "load-dashboard", "create": "load-create"}[endpoint]
        # A report, not a limit: "met" when both sides were measured without errors.
        goals[key] = (measured, ratio, now["errors"] == 0 and (then or {}).get("errors") == 0)
    workers = os.environ.get("WEB_CONCURRENCY", "3")
    results_append(
        "bench_load",
        f"{USERS} concurrent users on one endpoint at a time, {ROUNDS} rounds of {SECONDS:g} s per endpoint and "
        f"side, before ({BEFORE or 'not run'}) and after in turn; gunicorn -c portal/gunicorn_conf.py "
        f"({workers} sync workers, DEBUG=0), the bench team of {DEPLOYMENTS:,} deployments with a month of spend "
        "at month end; API list with a token (50 a page), dashboard with a session, create = POST of the bench "
        "spec; the load generator runs on the same machine.",
        ["endpoint", "code", "answered", "errors", "req/s answered", "p50 ms", "p95 ms", "errors seen"], rows,
        goals=goals)


if __name__ == "__main__":
    main()
