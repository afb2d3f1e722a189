"""Shared by the benchmarks: Django setup on the bench database, the scale, the month-end clock, machine
facts, percentiles, and the results: RESULTS.md (the current figure of each goal) and HISTORY.md (every run)."""

import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

PROJECT_DIR = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
HISTORY = Path(__file__).resolve().parent / "HISTORY.md"
# `python -m bench --scale F` multiplies every benchmark's size (1: the sizes the goals name).
SCALE = float(os.environ.get("BENCH_SCALE", "1"))
# A Redis database of its own, so the benchmark's queues never meet `make run`'s (db 0).
BENCH_REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")


BENCH_DB = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/gantry_bench")
BENCH_DB_NAME = urlsplit(BENCH_DB).path.lstrip("/")


def _database_ensure():
    import psycopg

    with psycopg.connect(urlunsplit(urlsplit(BENCH_DB)._replace(path="/postgres")), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [BENCH_DB_NAME]).fetchone():
            conn.execute(f'CREATE DATABASE "{BENCH_DB_NAME}"')


def django_setup():
    """Point Django at the bench database (BENCH_DATABASE_URL; created and migrated on first use, its data
    kept for later runs) and the bench Redis db, with production's settings: DEBUG off (with it, Django keeps
    every query's SQL and time, a tenth of a create's CPU), so the static files collected as the image does."""
    import logging

    os.environ.setdefault("REDIS_URL", BENCH_REDIS)
    os.environ["DATABASE_URL"] = BENCH_DB
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    os.environ.setdefault("DEBUG", "0")
    os.environ.setdefault("SECRET_KEY", "bench-only-key-never-used-outside-benchmarks")
    os.environ.setdefault("SECURE_HTTPS", "0")  # the test client and the load's gunicorn speak plain HTTP
    os.environ.setdefault("LOG_FORMAT", "text")  # the few lines the benchmarks print stay readable
    _database_ensure()
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)  # one line per sandbox request otherwise
    logging.getLogger("gantry.request").setLevel(logging.WARNING)  # and one per request of the test client
    call_command("migrate", verbosity=0, interactive=False)
    if not settings.DEBUG:
        _static_collect()
    database_vacuum()


@cache
def _static_collect():
    """As the image build does (Dockerfile): with DEBUG off a page naming a static file missing from the
    manifest is a 500. Once per run, about 5 s."""
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)


def database_vacuum():
    """VACUUM (ANALYZE) the bench database, as autovacuum keeps a production one. PostgreSQL may run with
    autovacuum off (this machine's CI configuration turns it off): then the rows an earlier benchmark rewrote
    stay dead, freshly generated tables have no statistics, the planner picks sequential scans (a 1,000-row
    count took 30 ms in a table of 23,000 live and 213,000 dead rows), and the figures measure the bloat.
    At the start of every benchmark and after each data generation. Not on any other database: the smoke tests
    run the benchmarks in the test database, inside a transaction a VACUUM from another connection would wait
    behind (and at their sizes statistics change nothing)."""
    import psycopg
    from django.db import connection

    if connection.settings_dict["NAME"] != BENCH_DB_NAME:
        print(f"not the bench database ({connection.settings_dict['NAME']}): no VACUUM", flush=True)
        return
    started = time.monotonic()
    with psycopg.connect(BENCH_DB, autocommit=True) as conn:  # VACUUM cannot run inside a transaction
        conn.execute("VACUUM (ANALYZE)")
    print(f"bench database vacuumed and analyzed in {time.monotonic() - started:.1f}s", flush=True)


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


def scaled(n):
    """A benchmark's size at the run's scale (at least 1)."""
    return max(1, round(n * SCALE))


def clock_offset():
    """Seconds from now to 23:00 UTC on the last day of this month (bench.realistic.month_end): benchmarks
    that read spend run there, when the month to date holds the most rows."""
    from .realistic import month_end

    return (month_end() - datetime.now(UTC)).total_seconds()


def clock_shift(offset_seconds):
    """Make django.utils.timezone.now run `offset_seconds` ahead (still ticking); returns the real one.

    Every Gantry module calls `timezone.now()` through the module, so this reaches them all; a subprocess
    does the same through bench/clock_wsgi.py (BENCH_CLOCK_OFFSET)."""
    from datetime import timedelta

    from django.utils import timezone

    real, shift = timezone.now, timedelta(seconds=offset_seconds)
    timezone.now = lambda: real() + shift
    return real


@contextmanager
def month_end_clock():
    """`timezone.now()` at the end of this month for the block (see clock_offset); yields the offset."""
    from django.utils import timezone

    offset = clock_offset()
    real = clock_shift(offset)
    try:
        yield offset
    finally:
        timezone.now = real


# The goals of issues 17 and 18, in the order of RESULTS.md: (key, issue, goal). A benchmark records its
# figure with goals_record(); a table with a "goal" column given to results_append() records the rows whose
# first cell starts with a GOAL_ROWS prefix (bench_watch's).
GOALS = (
    ("watch-latency", 17, "Watches: a pod change reaches the database within 1 s (p95)"),
    ("watch-cpu", 17, "Watches: CPU per minute at 5,000 deployments / 50,000 pods with 1 % of pods changing "
                      "per minute, at least 20× less than the list sync's"),
    ("watch-resync", 17, "Watches: a full resync at 5,000 / 50,000 within 3 s"),
    ("watch-other-503", 17, "Two clusters, one answering 503: the other's changes still reach the database "
                            "within 1 s (p95)"),
    ("watch-other-gone", 17, "Two clusters, one gone (connections refused): the same within 1 s (p95)"),
    ("create-queries", 18, "Create: SQL queries per create constant in the team's size, at most 8"),
    ("create-flat", 18, "Create: time per create flat from 10 to 1,000 deployments in the team"),
    ("push", 18, "Push: REST create → applied at most 1.5× the direct kubernetes-client applies, N = 200"),
    ("list-50", 18, "API list: at least 0.9× a bare Django view's throughput, 50 a page"),
    ("list-200", 18, "API list: at least 0.9× a bare Django view's throughput, 200 a page"),
    ("dashboard-p95", 18, "Dashboard: p95 at most 150 ms at 10,000 deployments with a month of spend, at "
                          "month end"),
    ("dashboard-queries", 18, "Dashboard: SQL queries constant in the number of deployments"),
    ("load-list", 18, "Load, 20 users on gunicorn (2 cores): API list, req/s and p95"),
    ("load-dashboard", 18, "Load, 20 users on gunicorn (2 cores): dashboard, req/s and p95"),
    ("load-create", 18, "Load, 20 users on gunicorn (2 cores): create, req/s and p95"),
)
GOAL_ROWS = {
    "pod change -> database": "watch-latency", "CPU per minute": "watch-cpu", "full resync": "watch-resync",
    "other cluster answering 503": "watch-other-503", "other cluster gone": "watch-other-gone",
}
RESULTS_HEADER = ("goal", "measured", "ratio", "met", "date", "machine")
NOT_RUN = "not measured yet"


def _cell(value):
    return str(value).replace("|", "\\|").replace("\n", " ")


def _table(header, rows):
    lines = ["| " + " | ".join(header) + " |\n", "|" + " --- |" * len(header) + "\n"]
    return lines + ["| " + " | ".join(_cell(c) for c in row) + " |\n" for row in rows]


def _results_read():
    """{goal text: row cells} of the current RESULTS.md (rows of goals no longer listed are dropped)."""
    if not RESULTS.exists():
        return {}
    rows = {}
    for line in RESULTS.read_text().splitlines():
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
        if len(cells) == len(RESULTS_HEADER) and cells[0] not in ("goal", "---"):
            rows[cells[0]] = cells
    return rows


def goals_record(figures):
    """Rewrite the rows of these goals in RESULTS.md: {key: (measured, ratio, met)}, met True/False/None.

    Other goals keep the row of the run that last measured them. Only a run at scale 1 writes here: a
    smaller run's figures are not the goal's (results_append still keeps them in HISTORY.md)."""
    if SCALE != 1:
        return
    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    known = {key for key, _, _ in GOALS}
    unknown = set(figures) - known
    assert not unknown, f"no such goal: {unknown}"
    current = _results_read()
    rows = []
    for key, issue, goal in GOALS:
        text = f"{goal} (#{issue})"
        if key in figures:
            measured, ratio, met = figures[key]
            rows.append([text, measured, ratio, {True: "yes", False: "**no**", None: "?"}[met], stamp, machine()])
        else:
            rows.append(current.get(text) or [text, NOT_RUN, "", "", "", ""])
    intro = ("# Benchmark results\n\nThe current figure of each goal of issues 17 and 18, one row per goal, as the "
             "last full-scale run of its benchmark measured it (`make bench` rewrites the rows of the benchmarks "
             "it ran). Every run, with its conditions and details, is in [HISTORY.md](HISTORY.md). How to run "
             "one and what the figures mean: the README's \"Benchmarks\" section.\n\n")
    RESULTS.write_text(intro + "".join(_table(RESULTS_HEADER, rows)))


def _met_from_cells(goal, measured, ratio):
    """Whether a row of a table with a goal column meets it, for goals written "<= 1 s" or ">= 20x less"."""
    units = {"ms": 0.001, "s": 1.0}
    limit = re.fullmatch(r"<=\s*([\d.]+)\s*(ms|s)", goal.strip())
    value = re.match(r"([\d.]+)\s*(ms|s)\b", measured.strip())
    if limit and value:
        return float(value[1]) * units[value[2]] <= float(limit[1]) * units[limit[2]]
    least = re.fullmatch(r">=\s*([\d.]+)x.*", goal.strip())
    got = re.match(r"([\d.]+)x", ratio.strip())
    if least and got:
        return float(got[1]) >= float(least[1])
    return None


def results_append(name, summary, header, rows, *, goals=None):
    """Keep a run: a section in HISTORY.md (name, UTC date, scale, machine, a line of context, a table), and
    its goals' rows in RESULTS.md (goals_record): `goals` {key: (measured, ratio, met)}, or, for a table with
    a "goal" column, the rows named in GOAL_ROWS (measured: the column after "goal"; ratio: a last "ratio")."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    scale = "" if SCALE == 1 else f" Scale {SCALE:g} (not the goals' sizes)."
    lines = [f"\n## {name} · {stamp}\n", f"{summary}{scale} Machine: {machine()}.\n\n", *_table(header, rows)]
    if not HISTORY.exists():
        lines.insert(0, "# Benchmark history\n\nEvery benchmark run, appended (never rewritten); the current "
                        "figure of each goal is in [RESULTS.md](RESULTS.md).\n")
    with HISTORY.open("a") as fh:
        fh.writelines(lines)
    if goals is None and "goal" in header:
        at = header.index("goal")
        goals = {}
        for row in rows:
            key = next((k for prefix, k in GOAL_ROWS.items() if str(row[0]).startswith(prefix)), None)
            if key and at + 1 < len(row):
                measured, ratio = str(row[at + 1]), str(row[-1]) if header[-1] == "ratio" else ""
                goals[key] = (measured, ratio, _met_from_cells(str(row[at]), measured, ratio))
    if goals:
        goals_record(goals)


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


def process_start(args, *, env, log_path, ready=None, timeout=30, cwd=PROJECT_DIR):
    """A child process in its own session (so it can be stopped as a group); waits for `ready()`."""
    log = open(log_path, "wb")  # noqa: SIM115 (closed with the process)
    proc = subprocess.Popen(args, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
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


# --- CPU by process --------------------------------------------------------------------------------------
# What each side of a measurement spends of the machine's cores: user + system time from /proc/<pid>/stat
# (fields 14 and 15, in clock ticks; proc(5)), grouped by what the process is.
CPU_GROUPS = (("celery worker", "celery"), ("sandbox cluster", "bench.sandbox_proc"), ("PostgreSQL", "postgres"),
              ("Redis", "redis-server"))


def _cpu_group(pid, cmdline):
    if pid == os.getpid():
        return "bench process"
    return next((name for name, marker in CPU_GROUPS if marker in cmdline), None)


def cpu_by_group():
    """{group: {pid: CPU seconds so far}} over the processes alive now (another user's too, when readable)."""
    tick, out = os.sysconf("SC_CLK_TCK"), {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # gone meanwhile
            continue
        group = _cpu_group(int(entry.name), cmdline)
        if group is None:
            continue
        fields = stat.rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
        out.setdefault(group, {})[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick
    return out


@contextmanager
def cpu_measured():
    """Yields a dict filled on exit with {group: CPU seconds spent inside the block}; a process started inside
    counts from zero. Processes that ended inside the block are not counted: stop them after it."""
    before, spent = cpu_by_group(), {}
    yield spent
    for group, pids in cpu_by_group().items():
        used = sum(seconds - before.get(group, {}).get(pid, 0.0) for pid, seconds in pids.items())
        if used > 0:
            spent[group] = used
