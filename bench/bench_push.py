"""Push: N deployments (default 200) through the whole pipeline (REST create -> Redis -> celery worker -> cluster
API) against the same manifests applied straight from the kubernetes client to the same kind of cluster.

The cluster is a sandbox in a process of its own (bench/sandbox_proc.py), a fresh one for every phase, so its
CPU is not the measured code's and every phase starts from an empty cluster. The pipeline time runs from the
first `POST /api/v1/deployments/` (Django test client, token auth, one after another, as a script would send
them) to the last `applied_revision` written by the worker (`celery worker -c 2`, as in the Procfile), portal
and worker warmed up first by two deployments of their own (`_warm_up`); the direct time is one client applying
the namespace and the objects of each deployment in turn, after a first namespace apply. ROUNDS rounds,
pipeline and direct in turn (the order alternating); the ratio is taken per round and its spread reported.
The CPU each process spent on either path is reported too, and with it the pipeline's floor on this machine:
its CPU over the cores, below which no overlap of creates and pushes can bring it.
"""

import os
import tempfile
import time
from pathlib import Path

from .support import scaled

N = scaled(int(os.environ.get("BENCH_PUSH_N", "200")))
ROUNDS = int(os.environ.get("BENCH_PUSH_ROUNDS", "3"))
TEAM = "pushbench"
GOAL_RATIO = 1.5
WARM_UP = 2  # deployments pushed before the clock starts: one for each of the worker's two processes
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
    """The push team, emptied, and an owner's API token."""
    from django.contrib.auth import get_user_model

    from deployments.models import Deployment
    from teams.models import Membership, Role, Team
    from teams.services import token_create

    team, _ = Team.objects.update_or_create(
        slug=TEAM, defaults={"name": "Push bench", "monthly_budget_usd": 10**9, "gpu_quota": 10**6})
    Deployment.objects.filter(team=team).delete()
    user, _ = get_user_model().objects.get_or_create(username="push-bench-owner")
    Membership.objects.update_or_create(user=user, team=team, defaults={"role": Role.OWNER})
    return team, token_create(user=user, name=f"push-bench-{time.time_ns()}")[1]


def pipeline_client(*, timeout=600):
    """A test client with the push team's token, its portal and worker warmed up (`_warm_up`)."""
    from django.test import Client

    _, key = _team_fresh()
    client = Client(headers={"Authorization": f"Token {key}"})
    _warm_up(client, timeout=timeout)
    return client


def _created(client, names):
    """POST a deployment of each name, one after another; their ids."""
    ids = []
    for name in names:
        response = client.post("/api/v1/deployments/", {**SPEC, "team": TEAM, "name": name},
                               content_type="application/json")
        assert response.status_code == 201, (response.status_code, response.content[:300])
        ids.append(response.json()["id"])
    return ids


def _applied_wait(ids, *, timeout, what):
    from deployments.models import Deployment

    deadline = time.monotonic() + timeout
    while Deployment.objects.filter(pk__in=ids, applied_revision=1).count() < len(ids):
        if time.monotonic() > deadline:
            raise RuntimeError(f"pipeline: not all {what} applied after {timeout}s")
        time.sleep(0.02)


def pipeline_run(n, client, *, timeout=600):
    """POST n deployments; seconds until the worker has applied all of them, and their manifests."""
    from deployments.models import Deployment

    started = time.perf_counter()
    ids = _created(client, [f"push-{i:04d}" for i in range(n)])
    created = time.perf_counter() - started
    _applied_wait(ids, timeout=timeout, what=f"{n} pushes")
    total = time.perf_counter() - started
    manifests = [_manifests(d) for d in Deployment.objects.filter(pk__in=ids).select_related("team", "current_revision")]
    return {"total": total, "create": created, "manifests": manifests}


def _warm_up(client, *, timeout):
    """WARM_UP deployments through the whole pipeline before the clock starts, as the direct side applies a
    namespace first: a running portal has loaded its middleware and URLs (Django's test client does that on its
    first request, about a second here, where gunicorn does it when a worker boots) and its worker processes have
    opened their connections and read the kubeconfig (one each, likely, with the prefetch of one). Deleted from
    the database afterwards; their objects stay in the cluster."""
    from deployments.models import Deployment

    ids = _created(client, [f"push-warm-up-{i}" for i in range(WARM_UP)])
    _applied_wait(ids, timeout=timeout, what="warm-up deployments")
    Deployment.objects.filter(pk__in=ids).delete()


def _manifests(deployment):
    from deployments.services.manifests import revision_manifests

    return revision_manifests(deployment, deployment.current_revision)


def _api_client(kubeconfig):
    from kubernetes import config
    from kubernetes.dynamic import DynamicClient

    return DynamicClient(config.new_client_from_config(config_file=kubeconfig))


def direct_run(manifests, *, kubeconfig):
    """Server-side apply of the same objects with the kubernetes dynamic client; seconds."""
    client = _api_client(kubeconfig)
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


def _services_in_cluster(kubeconfig):
    client = _api_client(kubeconfig)
    ksvc = client.resources.get(api_version="serving.knative.dev/v1", kind="Service")
    return len(client.get(ksvc, namespace=f"tenant-{TEAM}").items)


def _phase(kind, n, workdir, manifests):
    """One phase on a fresh sandbox process: ("pipeline", seconds, create seconds, manifests) or ("direct", ...)."""
    from .sandbox_proc import Driver
    from .support import cpu_measured, process_stop, worker_start

    driver = Driver()
    try:
        if kind == "pipeline":
            worker = worker_start(log_path=Path(workdir) / "worker.log", env={"KUBECONFIG": driver.kubeconfig})
            try:
                client = pipeline_client()
                with cpu_measured() as cpu:
                    result = pipeline_run(n, client)
            finally:
                process_stop(worker)
            assert _services_in_cluster(driver.kubeconfig) == n + WARM_UP
            return result["total"], result["create"], result["manifests"], cpu
        with cpu_measured() as cpu:
            seconds = direct_run(manifests, kubeconfig=driver.kubeconfig)
        assert _services_in_cluster(driver.kubeconfig) == len(manifests)
        return seconds, None, manifests, cpu
    finally:
        driver.stop()


def run(n=N, *, rounds=ROUNDS, workdir=None):
    """{"n", "objects", "pipeline": [s], "create": [s], "direct": [s], "ratios": [per round],
    "cpu": {"pipeline": [{group: CPU s}], "direct": [...]}}."""
    workdir = workdir or tempfile.mkdtemp(prefix="gantry-bench-push-")
    out = {"n": n, "pipeline": [], "create": [], "direct": [], "ratios": [], "cpu": {"pipeline": [], "direct": []}}
    manifests = None
    for r in range(rounds):
        # The direct side replays the pipeline's manifests: round 0 needs the pipeline first.
        order = ("pipeline", "direct") if r % 2 == 0 else ("direct", "pipeline")
        times = {}
        for kind in order:
            seconds, create, got, cpu = _phase(kind, n, workdir, manifests)
            times[kind] = seconds
            out["cpu"][kind].append(cpu)
            if kind == "pipeline":
                manifests = got
                out["create"].append(create)
        out["pipeline"].append(times["pipeline"])
        out["direct"].append(times["direct"])
        out["ratios"].append(times["pipeline"] / times["direct"])
        print(f"push round {r + 1}: pipeline {times['pipeline']:.2f}s, direct {times['direct']:.2f}s, "
              f"ratio {out['ratios'][-1]:.2f}", flush=True)
    out["objects"] = sum(len(m) for m in manifests)
    return out


def _cpu_rows(r, n):
    """CPU seconds by process (median over rounds) for each path, and the pipeline's floor on this machine: all its
    CPU spread over every core, the least wall time it can take however well its parts overlap."""
    from .support import p50

    rows = []
    for kind in ("pipeline", "direct"):
        groups = sorted({g for cpu in r["cpu"][kind] for g in cpu})
        for group in groups:
            seconds = p50([cpu.get(group, 0.0) for cpu in r["cpu"][kind]])
            if seconds < 0.005:  # a process that barely ran on this path (Redis on the direct one)
                continue
            rows.append([f"CPU, {kind}: {group}", f"{seconds:.2f}", f"{1000 * seconds / n:.1f}", ""])
    total = p50([sum(cpu.values()) for cpu in r["cpu"]["pipeline"]])
    floor = total / (os.cpu_count() or 1)
    rows.append([f"pipeline floor: its CPU, {total:.2f} s, over {os.cpu_count()} cores", f"{floor:.2f}",
                 f"{1000 * floor / n:.1f}", f"{floor / p50(r['direct']):.2f}"])
    return rows


def main():
    from .support import django_setup, p50, results_append

    django_setup()
    r = run(N)
    n, ratio = r["n"], p50(r["ratios"])
    spread = f"{min(r['ratios']):.2f}-{max(r['ratios']):.2f}"
    print(f"push: pipeline {p50(r['pipeline']):.2f}s, direct {p50(r['direct']):.2f}s, ratio {ratio:.2f} ({spread})",
          flush=True)
    results_append(
        "bench_push",
        f"{n} online deployments ({r['objects']} objects in all, plus a namespace apply each), a fresh sandbox in "
        f"its own process for every phase; pipeline = `POST /api/v1/deployments/` (test client, token) + Redis + `celery "
        f"worker -c 2`, direct = one kubernetes dynamic client, server-side apply, one object after another; "
        f"{ROUNDS} rounds, the order alternating; medians, and the per-round ratios' range. CPU: user + system "
        f"seconds of each process while the path ran (/proc), the bench process being the REST client and the "
        f"Django app of the creates on the pipeline side, the kubernetes client on the direct side.",
        ["path", "total s (median)", "per deployment ms", "ratio (range over rounds)"],
        [["pipeline (REST create → applied)", f"{p50(r['pipeline']):.2f}", f"{1000 * p50(r['pipeline']) / n:.1f}",
          f"{ratio:.2f} ({spread})"],
         ["of which the creates (the requests)", f"{p50(r['create']):.2f}", f"{1000 * p50(r['create']) / n:.1f}", ""],
         ["direct kubernetes client", f"{p50(r['direct']):.2f}", f"{1000 * p50(r['direct']) / n:.1f}", "1.00"],
         *_cpu_rows(r, n)],
        goals={"push": (f"pipeline {p50(r['pipeline']):.2f} s, direct {p50(r['direct']):.2f} s for {n}",
                        f"{ratio:.2f}× (rounds {spread})", ratio <= GOAL_RATIO)},
    )


if __name__ == "__main__":
    main()
