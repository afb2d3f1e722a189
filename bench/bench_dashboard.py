"""The team dashboard at 1,000 deployments with 30 days of rolled-up spend: p50/p95 render time and SQL queries.

Runs in its own database (BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/gantry_bench),
created and migrated on first use; the generated data is kept and reused by later runs.
"""

import os
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

BENCH_DB = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/gantry_bench")
DEPLOYMENTS = int(os.environ.get("BENCH_DEPLOYMENTS", "1000"))
DAYS = 30
SAMPLE_MINUTES = 120  # raw samples for the last two hours; older ones are rolled up (and would be thinned)
RUNS = int(os.environ.get("BENCH_RUNS", "30"))
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def _database_ensure():
    import psycopg

    name = BENCH_DB.rsplit("/", 1)[1]
    with psycopg.connect(BENCH_DB.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def _setup():
    os.environ["DATABASE_URL"] = BENCH_DB
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("SECURE_HTTPS", "0")
    _database_ensure()
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def _data_ensure():
    """One team, one owner, DEPLOYMENTS deployments, DAYS days of DailySpend, recent samples (bulk inserts)."""
    from datetime import timedelta
    from decimal import Decimal

    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.utils import timezone

    from deployments.models import Deployment, Revision
    from specs.vocabulary import Status, Target, Workload
    from spend.models import DailySpend, StatusSample
    from teams.models import Membership, Role, Team

    team, _ = Team.objects.get_or_create(slug="bench", defaults={"name": "Bench", "monthly_budget_usd": 500000})
    user, _ = get_user_model().objects.get_or_create(username="bench-owner")
    Membership.objects.get_or_create(user=user, team=team, defaults={"role": Role.OWNER})
    if Deployment.objects.filter(team=team).count() >= DEPLOYMENTS:
        return user
    started = time.perf_counter()
    now = timezone.now().replace(second=0, microsecond=0)
    with transaction.atomic():
        Deployment.objects.filter(team=team).delete()
        statuses = [Status.RUNNING, Status.RUNNING, Status.SCALED_TO_ZERO, Status.RUNNING, Status.FAILED]
        deployments = Deployment.objects.bulk_create(
            Deployment(team=team, name=f"svc-{i:04d}", workload=Workload.ONLINE, target=Target.KNATIVE,
                       status=statuses[i % 5], gpu_class=("A100_NVLINK_80GB", "H100_NVLINK_80GB", "A40")[i % 3],
                       region="LAS1", gpus_per_replica=1 + i % 2, ready_pods=i % 4, total_pods=i % 4,
                       gpus_in_use=(i % 4) * (1 + i % 2), idle_since=now if i % 7 == 0 else None, last_synced_at=now)
            for i in range(DEPLOYMENTS)
        )
        spec = {"scaling": {"min_replicas": 0, "max_replicas": 4, "scale_to_zero_retention": "30m"}}
        revisions = Revision.objects.bulk_create(Revision(deployment=d, number=1, spec=spec) for d in deployments)
        for d, r in zip(deployments, revisions):
            d.current_revision = r
        Deployment.objects.bulk_update(deployments, ["current_revision"], batch_size=1000)
        today = now.date()
        DailySpend.objects.bulk_create(
            (DailySpend(deployment=d, team=team, day=today - timedelta(days=k), gpu_hours=Decimal(i % 9),
                        cost_usd=Decimal(i % 9) * Decimal("2.70"), warm_cost_usd=Decimal("0.5"))
             for i, d in enumerate(deployments) for k in range(DAYS)),
            batch_size=5000,
        )
        StatusSample.objects.bulk_create(
            (StatusSample(deployment=d, at=now - timedelta(minutes=m), status=d.status, ready_pods=d.ready_pods,
                          total_pods=d.total_pods, gpus_in_use=d.gpus_in_use)
             for d in deployments for m in range(SAMPLE_MINUTES)),
            batch_size=5000,
        )
    print(f"generated {DEPLOYMENTS} deployments, {DEPLOYMENTS * DAYS} DailySpend rows, "
          f"{DEPLOYMENTS * SAMPLE_MINUTES} samples in {time.perf_counter() - started:.1f}s", flush=True)
    return user


def _measure(client, path, headers=None):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(path, headers=headers or {})  # warm-up: template loading, connection
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path, headers=headers or {})
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code in (200, 286), response.status_code
    times.sort()
    p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
    return statistics.median(times), p95, len(queries), len(response.content)


def main():
    _setup()
    from django.test import Client

    user = _data_ensure()
    client = Client()
    client.force_login(user)
    rows = []
    for label, path, headers in (("full page", "/", None), ("htmx poll", "/", {"HX-Request": "true"})):
        p50, p95, queries, size = _measure(client, path, headers)
        rows.append((label, p50, p95, queries, size))
        print(f"dashboard {label}: p50 {p50:.0f} ms, p95 {p95:.0f} ms, {queries} SQL queries, {size // 1024} KiB",
              flush=True)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [f"\n## bench_dashboard · {stamp}\n",
             f"{DEPLOYMENTS} deployments, {DAYS} days of DailySpend, {SAMPLE_MINUTES} min of samples each; "
             f"{RUNS} requests per row ({os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}).\n\n",
             "| request | p50 ms | p95 ms | SQL queries | response KiB |\n| --- | --- | --- | --- | --- |\n"]
    lines += [f"| {label} | {p50:.0f} | {p95:.0f} | {q} | {size // 1024} |\n" for label, p50, p95, q, size in rows]
    if not RESULTS.exists():
        lines.insert(0, "# Benchmark results\n")
    with RESULTS.open("a") as fh:
        fh.writelines(lines)


if __name__ == "__main__":
    main()
