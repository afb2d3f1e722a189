"""Watches against the list sync (issue 17), with each sandbox cluster in a process of its own.

Scale: BENCH_WATCH_DEPLOYMENTS (default 5000) Knative deployments with BENCH_WATCH_PODS (10) Running
pods each, over 10 namespaces; the pods carry the rendered container whole, as Knative copies it.
Measured in one run, watch and list rounds interleaved:
1. latency: one pod's Ready condition flips in the sandbox -> the deployment's ready_pods in PostgreSQL;
   the watcher against the list sync cycling every SYNC_INTERVAL_SECONDS (5 s, as celery beat runs it);
2. CPU per minute at steady state while 1 % of the pods change per minute (the sandbox process makes
   the changes): the watcher (this process's CPU time over BENCH_WATCH_CPU_SECONDS) against the list
   sync (one cycle's CPU time x the cycles in a minute);
3. a full resync: every kind listed again (each in its own thread, at once, as the watch threads relist) and
   every deployment decided, only changed rows written;
4. two clusters, one answering 503 then dropping every connection: the other's latency.

The deployments are in a region of their own (REGION) served by a cluster record of their own (CLUSTER, the
sandbox), the watcher watching that cluster only: the bench database also holds the other benchmarks' live
deployments (23,000 after one `make bench`), which the watcher would otherwise sweep and sample as well, where
the list sync is given the 5,000 ids.
"""

import json
import os
import random
import statistics
import tempfile
import threading
import time
from pathlib import Path

DEPLOYMENTS = int(os.environ.get("BENCH_WATCH_DEPLOYMENTS", "5000"))
PODS = int(os.environ.get("BENCH_WATCH_PODS", "10"))
NAMESPACES = 10
ROUNDS = int(os.environ.get("BENCH_WATCH_ROUNDS", "2"))
RESYNCS = int(os.environ.get("BENCH_WATCH_RESYNCS", "3"))
FLIPS_WATCH, FLIPS_LIST = 10, 3
CPU_SECONDS = float(os.environ.get("BENCH_WATCH_CPU_SECONDS", "60"))
SYNC_INTERVAL = 5.0
REGION, CLUSTER = "RNO2", "bench-watch"  # no other benchmark deploys to RNO2


def _fill(driver, deployments, ksvc):
    path = Path(tempfile.mkdtemp(prefix="gantry-bench-")) / "fill.json"
    path.write_text(json.dumps({"template": ksvc, "pods": PODS,
                                "deployments": [[d.namespace, d.name, d.team.slug] for d in deployments]}))
    return float(driver.send("fill", path).split()[1])


def _wait(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError(f"bench_watch: timed out waiting for {what}")
        time.sleep(0.02)


class Flipper:
    """Flips the first pod of a random deployment and times how long PostgreSQL takes to show it."""

    def __init__(self, driver, deployments):
        self.driver, self.deployments = driver, deployments

    def flip(self):
        from deployments.models import Deployment

        d = random.choice(self.deployments)
        started = time.perf_counter()
        expected = int(self.driver.send("flip", d.namespace, d.name).split()[1])
        while not Deployment.objects.filter(pk=d.pk, ready_pods=expected).exists():
            if time.perf_counter() - started > 60:
                raise RuntimeError(f"bench_watch: {d.name} never showed {expected} ready pods")
            time.sleep(0.005)
        return time.perf_counter() - started


class WatcherRunning:
    def __init__(self, **kwargs):
        from django.db import connection

        from deployments.services.watching import Watcher

        self.watcher, self.stop_event = Watcher(**{"names": {CLUSTER}, **kwargs}), threading.Event()

        def run():
            try:
                self.watcher.run(self.stop_event)
            finally:
                connection.close()

        started = time.perf_counter()
        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        _wait(lambda: self.watcher.watches and all(w.mirror.ready() for w in list(self.watcher.watches.values())),
              300, "the watches to list")
        self.listed_s = time.perf_counter() - started

    def wait_swept(self):
        """Until every cluster had its first sweep: the database shows what the watches hold."""
        _wait(lambda: set(self.watcher.watches) <= self.watcher._swept, 300, "the watcher's first sweep")

    def stop(self):
        self.stop_event.set()
        self.thread.join(30)


class ListSyncRunning:
    """status_sync every SYNC_INTERVAL seconds, as celery beat schedules it (a cycle longer than the
    interval starts the next one at once)."""

    def __init__(self, ids):
        from django.db import connection

        from deployments.services.sync import status_sync

        self.stop_event, self.cpu, self.cycles = threading.Event(), [], []

        def run():
            try:
                while not self.stop_event.is_set():
                    began, cpu = time.perf_counter(), time.thread_time()
                    status_sync(deployment_ids=ids)
                    self.cpu.append(time.thread_time() - cpu)
                    self.cycles.append(time.perf_counter() - began)
                    self.stop_event.wait(max(0.0, SYNC_INTERVAL - (time.perf_counter() - began)))
            finally:
                connection.close()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()

    def stop(self):
        self.stop_event.set()
        self.thread.join(120)


def _latencies(driver, flipper, ids):
    watch, listed = [], []
    for _ in range(ROUNDS):
        running = WatcherRunning()
        running.wait_swept()
        watch += [flipper.flip() for _ in range(FLIPS_WATCH)]
        running.stop()
        lister = ListSyncRunning(ids)
        for _ in range(FLIPS_LIST):
            time.sleep(random.uniform(0, SYNC_INTERVAL))  # a change comes at any point of the cycle
            listed.append(flipper.flip())
        lister.stop()
    return watch, listed, lister


def _cpu_per_minute(driver, ids):
    """(watcher CPU s per minute, list CPU s per cycle, list s per cycle)."""
    running = WatcherRunning()
    running.wait_swept()
    driver.send("churn", DEPLOYMENTS * PODS / 100)  # 1 % of the pods per minute
    time.sleep(2)
    cpu, began = time.process_time(), time.perf_counter()
    time.sleep(CPU_SECONDS)
    watcher_cpu = (time.process_time() - cpu) * 60 / (time.perf_counter() - began)
    running.stop()
    lister = ListSyncRunning(ids)
    _wait(lambda: len(lister.cpu) >= 3, 300, "three list cycles")
    lister.stop()
    driver.send("churn", 0)
    return watcher_cpu, statistics.median(lister.cpu), statistics.median(lister.cycles)


def _resync():
    """Every kind listed again by a warm watcher, then every deployment decided: (seconds, rows written, list CPU,
    sweep CPU)."""
    from clusters.watch import WATCHED, lists_settled

    running = WatcherRunning()
    running.wait_swept()
    running.stop()
    watcher = running.watcher
    watcher.clusters_refresh()  # the watches again (threads), for their lists
    name, watch = next(iter(watcher.watches.items()))
    # Listed, and done with it: the mirror is ready as soon as the last list is in it, before that list's thread
    # has dropped the response and collected (0.2-0.4 s at 50,000 pods), which the resync timed next would pay.
    _wait(lambda: watch.mirror.ready() and lists_settled(), 300, "the watches to list")
    from django.utils import timezone

    # Each kind in a thread of its own, all at once, as the watch threads relist when their resync is due
    # (ClusterWatch._run); the CPU is the sum of theirs.
    cpu = {}

    def relist(kind):
        began = time.thread_time()
        watch._list(kind)
        cpu[kind] = time.thread_time() - began

    began = time.perf_counter()
    threads = [threading.Thread(target=relist, args=(kind,)) for kind in WATCHED]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert set(cpu) == set(WATCHED), "a list failed (its thread's error is above)"
    list_cpu, swept = sum(cpu.values()), time.thread_time()
    written = watcher.sweep_one(name, timezone.now())
    sweep_cpu = time.thread_time() - swept
    seconds = time.perf_counter() - began
    watcher.stop()
    return seconds, written, list_cpu, sweep_cpu


def _two_clusters(driver, flipper, deployments, ksvc):
    """Latencies on cluster A while cluster B answers 503, then drops every connection."""
    from catalog.models import Region
    from clusters.models import Cluster

    from .sandbox_proc import Driver

    other = Driver()
    try:
        _fill(other, deployments[:100], ksvc)
        b = Cluster.objects.create(name="bench-b", kubeconfig_path=other.kubeconfig)
        b.regions.set([Region.objects.get(code="ORD1")])
        running = WatcherRunning(names={CLUSTER, "bench-b"})
        running.wait_swept()
        out = {}
        for fault in ("503", "drop"):
            if fault == "503":
                other.send("fault", 503)
                other.send("drop")
            else:
                other.stop()  # the process is gone: connections refused
            time.sleep(0.5)
            out[fault] = [flipper.flip() for _ in range(FLIPS_WATCH)]
        running.stop()
        return out
    finally:
        Cluster.objects.filter(name="bench-b").delete()
        other.stop()


def _cluster_own(driver):
    """The cluster record serving REGION: the sandbox."""
    from catalog.models import Region
    from clusters.models import Cluster

    cluster, _ = Cluster.objects.update_or_create(name=CLUSTER, defaults={"kubeconfig_path": driver.kubeconfig})
    cluster.regions.set([Region.objects.get(code=REGION)])


def _ms(values, q):
    from .support import percentile

    return f"{1000 * percentile(values, q):.0f} ms"


def main():
    from .support import django_setup, results_append

    django_setup()
    from django.conf import settings

    from clusters.models import Cluster
    from deployments.models import Deployment

    from .bench_sync import _rows_create, _teams_ensure, _template
    from .sandbox_proc import Driver

    driver = Driver()
    try:
        settings.KUBECONFIG = driver.kubeconfig
        _cluster_own(driver)
        teams = _teams_ensure(NAMESPACES)
        spec, ksvc = _template()
        spec = {**spec, "compute": {**spec.get("compute", {}), "region": REGION}}
        ids = [d.pk for d in _rows_create(DEPLOYMENTS, teams, spec, region=REGION)]
        deployments = list(Deployment.objects.select_related("team").filter(pk__in=ids))
        print(f"filled the sandbox in {_fill(driver, deployments, ksvc):.0f}s", flush=True)
        flipper = Flipper(driver, deployments)

        watch, listed, _ = _latencies(driver, flipper, ids)
        print(f"latency watch p50 {_ms(watch, .5)} p95 {_ms(watch, .95)}; list p50 {_ms(listed, .5)} "
              f"p95 {_ms(listed, .95)}", flush=True)
        steady_cpu, list_cycle_cpu, list_cycle_s = _cpu_per_minute(driver, ids)
        # What beat asks for: a cycle every SYNC_INTERVAL (a slower cycle only delays the next one).
        list_cpu = list_cycle_cpu * 60 / SYNC_INTERVAL
        # A resync is one long request: its time varies with what else the machine does, so several, the median.
        resyncs = [_resync() for _ in range(RESYNCS)]
        resync_s, resync_list_cpu, sweep_cpu = (statistics.median(r[i] for r in resyncs) for i in (0, 2, 3))
        seconds = [r[0] for r in resyncs]
        resync_rows, resync_range = max(r[1] for r in resyncs), f"{min(seconds):.2f}-{max(seconds):.2f}"
        # The watcher's minute: what was measured, plus its sweep and its relist amortized over their intervals.
        watcher_cpu = (steady_cpu + sweep_cpu * 60 / settings.WATCH_SWEEP_SECONDS
                       + (resync_list_cpu + sweep_cpu) * 60 / settings.WATCH_RESYNC_SECONDS)
        print(f"CPU per minute: watcher {watcher_cpu:.2f}s (steady {steady_cpu:.2f}s, sweep {sweep_cpu:.2f}s every "
              f"{settings.WATCH_SWEEP_SECONDS:g}s, relist {resync_list_cpu:.2f}s every {settings.WATCH_RESYNC_SECONDS:g}s); "
              f"list sync {list_cpu:.2f}s ({list_cycle_cpu:.2f}s per cycle, {list_cycle_s:.1f}s wall)", flush=True)
        print(f"resync {resync_s:.2f}s (median of {RESYNCS}, {resync_range}), {resync_rows} rows written", flush=True)
        faults = _two_clusters(driver, flipper, deployments, ksvc)
        print(f"other cluster 503: p95 {_ms(faults['503'], .95)}; gone: p95 {_ms(faults['drop'], .95)}", flush=True)
    finally:
        Cluster.objects.filter(name=CLUSTER).delete()
        driver.stop()

    scale = f"{DEPLOYMENTS:,} deployments / {DEPLOYMENTS * PODS:,} pods"
    results_append(
        "bench_watch",
        f"Watches (manage.py watch_clusters) against the list sync every {SYNC_INTERVAL:g} s, {scale}, the "
        f"sandbox in its own process; {ROUNDS} interleaved rounds.",
        ["measure", "goal", "watch", "list sync", "ratio"],
        [["pod change -> database, p95", "<= 1 s", _ms(watch, .95), _ms(listed, .95),
          f"{statistics.median(listed) / statistics.median(watch):.0f}x faster (p50)"],
         ["CPU per minute, 1 % of pods changing per minute", ">= 20x less", f"{watcher_cpu:.2f} s",
          f"{list_cpu:.2f} s", f"{list_cpu / watcher_cpu:.0f}x less"],
         [f"full resync at {scale}", "<= 3 s",
          f"{resync_s:.2f} s (median of {RESYNCS}: {resync_range} s; {resync_rows} rows written)", "", ""],
         ["other cluster answering 503: change -> database, p95", "<= 1 s", _ms(faults["503"], .95), "", ""],
         ["other cluster gone (connections refused): p95", "<= 1 s", _ms(faults["drop"], .95), "", ""]],
    )


if __name__ == "__main__":
    main()
