"""Sync: one `status_sync` cycle (the list sync, the fallback of the watches) at 1,000 and 5,000 running
deployments with 10 pods each: seconds, Kubernetes API calls, SQL queries.

Rows are bulk-created with realistic revisions (the completed spec and the rendered manifests a create
stores). Each size has a sandbox in a process of its own (bench/sandbox_proc.py, `fill`: a Ready Knative
Service and PODS Running pods per deployment, the pods carrying the rendered container whole, as Knative
copies it), so the sandbox's CPU is not the measured code's. The deployments are spread over NAMESPACES
teams, so the API calls should follow the namespaces and the SQL queries stay flat. The sizes' cycles are
interleaved (one cycle of each size per round, the order alternating), so the time ratio between sizes
sees the same machine; API calls are counted at the kubernetes client's ApiClient.call_api.
"""

import json
import os
import tempfile
import time
from pathlib import Path

from .support import database_vacuum, scaled

SIZES = [scaled(int(s)) for s in os.environ.get("BENCH_SYNC_SIZES", "1000,5000").split(",")]
NAMESPACES = int(os.environ.get("BENCH_SYNC_NAMESPACES", "10"))
PODS = int(os.environ.get("BENCH_SYNC_PODS", "10"))
CYCLES = int(os.environ.get("BENCH_SYNC_CYCLES", "3"))
TEAM_PREFIX = "syncbench"


def _template():
    """A valid rendered Knative Service (the recommender's output), renamed per deployment."""
    from deployments.services.preview import deployment_preview
    from specs.render import manifests_render

    from .bench_push import SPEC

    preview = deployment_preview(spec={**SPEC, "team": f"{TEAM_PREFIX}-0", "name": "template"})
    assert not preview["errors"], preview["errors"]
    spec = preview["spec"]
    ksvc = next(o for o in manifests_render(spec, revision=1) if o["kind"] == "Service")
    return spec, ksvc


def _teams_ensure(namespaces, prefix=TEAM_PREFIX):
    from teams.models import Team

    return [Team.objects.update_or_create(slug=f"{prefix}-{t}", defaults={
        "name": f"Sync bench {t}", "monthly_budget_usd": 10**9, "gpu_quota": 10**6})[0] for t in range(namespaces)]


def _rows_create(n, teams, spec, manifests=(), *, region="LAS1"):
    from django.db import transaction
    from django.utils import timezone

    from deployments.models import Deployment, Revision
    from specs.vocabulary import Status, Target, Workload
    from spend.models import StatusSample

    namespaces = len(teams)
    with transaction.atomic():
        StatusSample.objects.filter(deployment__team__in=teams).delete()
        Deployment.objects.filter(team__in=teams).delete()
        now = timezone.now()
        deployments = Deployment.objects.bulk_create(
            (Deployment(team=teams[i % namespaces], name=f"svc-{i:05d}", workload=Workload.ONLINE,
                        target=Target.KNATIVE, status=Status.RUNNING, applied_revision=1, gpu_class="A40",
                        region=region, last_synced_at=now) for i in range(n)),
            batch_size=2000,
        )
        revisions = Revision.objects.bulk_create(
            (Revision(deployment=d, number=1, spec=spec, manifests=list(manifests)) for d in deployments),
            batch_size=2000)
        for d, r in zip(deployments, revisions):
            d.current_revision = r
        Deployment.objects.bulk_update(deployments, ["current_revision"], batch_size=2000)
    database_vacuum()
    return deployments


def _fill(driver, deployments, ksvc, pods):
    """The sandbox process's share: a Ready Knative Service and `pods` Running pods per deployment."""
    path = Path(tempfile.mkdtemp(prefix="gantry-bench-sync-")) / "fill.json"
    path.write_text(json.dumps({"template": ksvc, "pods": pods,
                                "deployments": [[d.namespace, d.name, d.team.slug] for d in deployments]}))
    return float(driver.send("fill", path).split()[1])


class _Size:
    """One size: its teams, rows and sandbox process."""

    def __init__(self, n, spec, ksvc, manifests, *, namespaces, pods):
        from deployments.models import Deployment

        from .sandbox_proc import Driver

        started = time.perf_counter()
        self.n, self.times, self.calls, self.queries = n, [], [], []
        teams = _teams_ensure(namespaces, prefix=f"{TEAM_PREFIX}{n}")
        self.ids = [d.pk for d in _rows_create(n, teams, spec, manifests)]
        self.driver = Driver()
        _fill(self.driver, list(Deployment.objects.select_related("team").filter(pk__in=self.ids)), ksvc, pods)
        self.setup_s = time.perf_counter() - started

    def cycle(self):
        from unittest import mock

        from django.conf import settings
        from django.db import connection
        from django.test.utils import CaptureQueriesContext
        from kubernetes.client import ApiClient

        from deployments.services.sync import status_sync

        settings.KUBECONFIG = self.driver.kubeconfig
        calls, call_api = [], ApiClient.call_api

        def counted(client, *args, **kwargs):  # counts, then calls the real method
            calls.append(args[0] if args else kwargs.get("resource_path"))
            return call_api(client, *args, **kwargs)

        with mock.patch.object(ApiClient, "call_api", counted), CaptureQueriesContext(connection) as captured:
            begun = time.perf_counter()
            # Only this size's rows: the bench database also holds the other benchmarks' data.
            outcome = status_sync(deployment_ids=self.ids)
            self.times.append(time.perf_counter() - begun)
        assert outcome["deployments"] == self.n, outcome
        self.calls.append(len(calls))
        self.queries.append(len(captured))


def run(sizes=SIZES, *, cycles=CYCLES, namespaces=NAMESPACES, pods=PODS):
    """[{"n", "times", "api_calls", "sql_queries", "setup_s"}] per size (all cycles; API and SQL: the most)."""
    from deployments.models import Deployment
    from specs.vocabulary import Status

    from .realistic import revision_stored

    _teams_ensure(1)  # the team the template is rendered for
    spec, ksvc = _template()
    _, manifests, _ = revision_stored(f"{TEAM_PREFIX}-0")
    states = []
    try:
        for n in sizes:
            states.append(_Size(n, spec, ksvc, manifests, namespaces=namespaces, pods=pods))
            print(f"sync: {n} deployments x {pods} pods set up in {states[-1].setup_s:.0f}s", flush=True)
        for r in range(cycles):
            for state in states if r % 2 == 0 else states[::-1]:
                state.cycle()
        for state in states:
            running = Deployment.objects.filter(pk__in=state.ids, status=Status.RUNNING, ready_pods=pods).count()
            assert running == state.n, (running, state.n)
    finally:
        for state in states:
            state.driver.stop()
    return [{"n": s.n, "times": s.times, "api_calls": max(s.calls), "sql_queries": max(s.queries),
             "setup_s": s.setup_s} for s in states]


def main():
    from .support import django_setup, p50, results_append

    django_setup()
    results = run(SIZES)
    base = p50(results[0]["times"])
    rows = []
    for r in results:
        t = p50(r["times"])
        rows.append([r["n"], f"{r['n'] * PODS:,}", f"{t:.2f}", f"{min(r['times']):.2f}-{max(r['times']):.2f}",
                     f"{1000 * t / r['n']:.2f}", r["api_calls"], r["sql_queries"], f"{t / base:.2f}"])
        print(f"sync {r['n']}: {t:.2f}s per cycle, {r['api_calls']} API calls, {r['sql_queries']} SQL queries",
              flush=True)
    results_append(
        "bench_sync",
        f"`status_sync` (the list sync) over running Knative deployments with realistic revisions spread over "
        f"{NAMESPACES} namespaces, a Ready service and {PODS} Running pods each, each size in a sandbox process of "
        f"its own; {CYCLES} cycles per size, interleaved; median and range.",
        ["deployments", "pods", "s per cycle", "range s", "ms per deployment", "API calls", "SQL queries",
         "time vs first row"], rows)


if __name__ == "__main__":
    main()
