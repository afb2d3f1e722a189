"""Sync: one `status_sync` cycle at 1,000 and 5,000 running deployments: seconds, API calls, SQL queries.

Rows are bulk-created; the sandbox gets one Knative Service (Ready, revision 1) and one Running pod per
deployment, written straight into its store. The deployments are spread over NAMESPACES teams, so the
API calls should follow the namespaces (3 per namespace: pods, services, Knative revisions) and the SQL queries stay flat.
"""

import os
import time

SIZES = [int(s) for s in os.environ.get("BENCH_SYNC_SIZES", "1000,5000").split(",")]
NAMESPACES = int(os.environ.get("BENCH_SYNC_NAMESPACES", "10"))
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


def _teams_ensure(namespaces):
    from teams.models import Team

    return [Team.objects.update_or_create(slug=f"{TEAM_PREFIX}-{t}", defaults={
        "name": f"Sync bench {t}", "monthly_budget_usd": 10**9, "gpu_quota": 10**6})[0] for t in range(namespaces)]


def _rows_create(n, teams, spec):
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
                        region="LAS1", last_synced_at=now) for i in range(n)),
            batch_size=2000,
        )
        revisions = Revision.objects.bulk_create((Revision(deployment=d, number=1, spec=spec) for d in deployments),
                                                 batch_size=2000)
        for d, r in zip(deployments, revisions):
            d.current_revision = r
        Deployment.objects.bulk_update(deployments, ["current_revision"], batch_size=2000)
    return deployments


def _cluster_fill(sandbox, deployments, ksvc_template):
    import copy

    from sandbox.resources import resource_type
    from sandbox.sim_pods import pod_create, pod_set_phase

    store = sandbox.store
    ksvc_rt, ns_rt = resource_type("services.serving.knative.dev"), resource_type("namespaces")
    for namespace in sorted({d.namespace for d in deployments}):
        store.create(ns_rt, None, {"metadata": {"name": namespace}})
    container = ksvc_template["spec"]["template"]["spec"]["containers"][0]
    for d in deployments:
        obj = copy.deepcopy(ksvc_template)
        obj["metadata"].update(name=d.name, namespace=d.namespace)
        obj["metadata"]["labels"] = {**obj["metadata"].get("labels", {}), "gantry.io/deployment": d.name,
                                     "gantry.io/team": d.team.slug}
        created = store.create(ksvc_rt, d.namespace, obj)
        store.replace(ksvc_rt, d.namespace, d.name, {"status": {
            "observedGeneration": 1, "url": f"http://{d.name}.{d.namespace}.example.com",
            "conditions": [{"type": "Ready", "status": "True"}]}}, subresource="status")
        pod = pod_create(store, created, name_prefix=d.name, labels=obj["metadata"]["labels"],
                         containers=[{"name": "model", "image": container["image"],
                                      "resources": {"limits": {"nvidia.com/gpu": "1"}}}])
        pod_set_phase(store, pod, "Running")


def run(sizes=SIZES, *, sandbox, namespaces=NAMESPACES, cycles=CYCLES):
    """[{"n", "seconds" (median cycle), "api_calls", "sql_queries", "synced", "setup_s"}] per size."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from deployments.models import Deployment
    from deployments.services.sync import status_sync
    from specs.vocabulary import Status

    teams = _teams_ensure(namespaces)
    spec, ksvc = _template()
    results = []
    for n in sizes:
        started = time.perf_counter()
        sandbox.reset()
        ids = [d.pk for d in _rows_create(n, teams, spec)]
        deployments = list(Deployment.objects.select_related("team").filter(pk__in=ids))
        _cluster_fill(sandbox, deployments, ksvc)
        setup = time.perf_counter() - started
        times, calls, queries, synced = [], [], [], 0
        for _ in range(cycles):
            sandbox.clear_log()
            begun = time.perf_counter()
            with CaptureQueriesContext(connection) as captured:
                # Only this benchmark's rows: the bench database also holds the other benchmarks' data.
                outcome = status_sync(deployment_ids=ids)
            times.append(time.perf_counter() - begun)
            # Kubernetes API calls only: a Prometheus scraping the sandbox's /metrics/pods is not Gantry's.
            calls.append(sum(1 for r in sandbox.requests if r.path.startswith(("/api/", "/apis/"))))
            queries.append(len(captured))
            synced = outcome["deployments"]
        running = Deployment.objects.filter(pk__in=ids, status=Status.RUNNING, ready_pods=1).count()
        assert synced == n and running == n, (synced, running, n)
        times.sort()
        results.append({"n": n, "seconds": times[len(times) // 2], "api_calls": max(calls),
                        "sql_queries": max(queries), "synced": synced, "setup_s": setup})
    return results


def main():
    from sandbox import SandboxCluster

    from .support import django_setup, results_append

    django_setup()
    from django.conf import settings

    with SandboxCluster() as sandbox:
        settings.KUBECONFIG = sandbox.kubeconfig_path
        results = run(SIZES, sandbox=sandbox)
    for r in results:
        print(f"sync {r['n']}: {r['seconds']:.2f}s per cycle, {r['api_calls']} API calls, "
              f"{r['sql_queries']} SQL queries", flush=True)
    base = results[0]
    results_append(
        "bench_sync",
        f"`status_sync` over running Knative deployments spread over {NAMESPACES} namespaces, one Ready "
        f"service and one Running pod each, in the in-process sandbox API; median of {CYCLES} cycles.",
        ["deployments", "s per cycle", "ms per deployment", "API calls", "SQL queries", "time vs first row"],
        [[r["n"], f"{r['seconds']:.2f}", f"{1000 * r['seconds'] / r['n']:.2f}", r["api_calls"], r["sql_queries"],
          f"{r['seconds'] / base['seconds']:.2f}"] for r in results],
    )


if __name__ == "__main__":
    main()
