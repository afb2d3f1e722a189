"""Push: N deployments through the whole pipeline (service -> Redis -> celery worker -> sandbox API)
against the same manifests applied straight from the kubernetes client to the same sandbox API.

The pipeline time runs from the first create to the last `applied_revision` written by the worker
(`celery worker -c 2`, as in the Procfile); the direct time is one client applying the namespace
and the objects of each deployment in turn. Both start from an empty sandbox.
"""

import os
import tempfile
import time
from pathlib import Path

N = int(os.environ.get("BENCH_PUSH_N", "100"))
TEAM = "pushbench"
SPEC = {
    "workload": "online", "target": "knative",
    "runtime": {"image": "ghcr.io/acme/llm-server:1.4", "port": 8080, "protocol": "http"},
    "model": {"uri": "s3://models/llama-3-8b/model.tensors", "parameters_billions": 8.0, "precision": "bf16",
              "format": "tensorizer"},
    "storage": {"credentials_secret": "s3-creds"},
    "compute": {"region": "LAS1"},
    "scaling": {"min_replicas": 0, "max_replicas": 2, "latency_tolerance": "moderate"},
    "access": {"visibility": "public", "cross_cloud_clients": False},
}


def _team_fresh():
    from deployments.models import Deployment
    from teams.models import Team

    team, _ = Team.objects.update_or_create(
        slug=TEAM, defaults={"name": "Push bench", "monthly_budget_usd": 10**9, "gpu_quota": 10**6})
    Deployment.objects.filter(team=team).delete()
    return team


def pipeline_run(n, *, sandbox, timeout=600):
    """Create n deployments with the service; seconds until the worker has applied all of them."""
    from deployments.models import Deployment
    from deployments.services.lifecycle import deployment_create

    team = _team_fresh()
    started = time.perf_counter()
    ids = [deployment_create(user=None, spec={**SPEC, "team": TEAM, "name": f"push-{i:04d}"}).pk for i in range(n)]
    created = time.perf_counter() - started
    deadline = time.monotonic() + timeout
    while Deployment.objects.filter(pk__in=ids, applied_revision=1).count() < n:
        if time.monotonic() > deadline:
            raise RuntimeError(f"pipeline: not all {n} pushes applied after {timeout}s")
        time.sleep(0.02)
    total = time.perf_counter() - started
    manifests = [_manifests(d) for d in Deployment.objects.filter(team=team).select_related("team", "current_revision")]
    return {"total": total, "create": created, "manifests": manifests}


def _manifests(deployment):
    from deployments.services.manifests import revision_manifests

    return revision_manifests(deployment, deployment.current_revision)


def direct_run(manifests, *, sandbox):
    """Server-side apply of the same objects with the kubernetes dynamic client; seconds."""
    from kubernetes.dynamic import DynamicClient

    client = DynamicClient(sandbox.api_client())
    resources = {}

    def apply(obj):
        key = (obj["apiVersion"], obj["kind"])
        if key not in resources:
            resources[key] = client.resources.get(api_version=key[0], kind=key[1])
        meta = obj["metadata"]
        client.server_side_apply(resources[key], body=obj, name=meta["name"], namespace=meta.get("namespace"),
                                 field_manager="bench", force_conflicts=True)

    namespace = {"apiVersion": "v1", "kind": "Namespace",
                 "metadata": {"name": f"tenant-{TEAM}", "labels": {"app.kubernetes.io/managed-by": "gantry"}}}
    apply(namespace)  # discovery and connection warm-up, outside the timing
    started = time.perf_counter()
    for objects in manifests:
        apply(namespace)  # the pipeline ensures the namespace on every push too
        for obj in objects:
            apply(obj)
    return time.perf_counter() - started


def run(n=N, *, sandbox, workdir=None):
    """Both paths, n deployments each: {"n", "pipeline_s", "create_s", "direct_s", "objects", "ratio"}."""
    from sandbox.resources import resource_type

    from .support import process_stop, worker_start

    workdir = Path(workdir or tempfile.mkdtemp(prefix="gantry-bench-push-"))
    sandbox.reset()
    worker = worker_start(log_path=workdir / "worker.log", env={"KUBECONFIG": sandbox.kubeconfig_path})
    try:
        pipeline = pipeline_run(n, sandbox=sandbox)
    finally:
        process_stop(worker)
    ksvc = resource_type("services.serving.knative.dev")
    assert len(sandbox.store.objects(ksvc, f"tenant-{TEAM}")) == n
    sandbox.reset()
    direct = direct_run(pipeline["manifests"], sandbox=sandbox)
    assert len(sandbox.store.objects(ksvc, f"tenant-{TEAM}")) == n
    objects = sum(len(m) for m in pipeline["manifests"])
    return {"n": n, "pipeline_s": pipeline["total"], "create_s": pipeline["create"], "direct_s": direct,
            "objects": objects, "ratio": pipeline["total"] / direct}


def main():
    from sandbox import SandboxCluster

    from .support import django_setup, results_append

    django_setup()
    with SandboxCluster() as sandbox:
        r = run(N, sandbox=sandbox)
    print(f"push: pipeline {r['pipeline_s']:.2f}s, direct {r['direct_s']:.2f}s, ratio {r['ratio']:.1f}", flush=True)
    results_append(
        "bench_push",
        f"{r['n']} online deployments ({r['objects']} objects plus a namespace apply each) into the in-process "
        "sandbox API; pipeline = service create + Redis + `celery worker -c 2`, direct = one kubernetes "
        "dynamic client, server-side apply, one object after another.",
        ["path", "total s", "per deployment ms", "ratio"],
        [["pipeline (create → applied)", f"{r['pipeline_s']:.2f}", f"{1000 * r['pipeline_s'] / r['n']:.1f}",
          f"{r['ratio']:.2f}"],
         ["of which service create (in the request)", f"{r['create_s']:.2f}",
          f"{1000 * r['create_s'] / r['n']:.1f}", ""],
         ["direct kubernetes client", f"{r['direct_s']:.2f}", f"{1000 * r['direct_s'] / r['n']:.1f}", "1.00"]],
    )


if __name__ == "__main__":
    main()
