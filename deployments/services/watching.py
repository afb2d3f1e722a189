"""The watcher: deployments kept in step with what the watches on every cluster see (`manage.py watch_clusters`).

Three paces:
- every FLUSH_SECONDS, the deployments whose objects changed are decided and written: a pod that
  changes reaches the database within a fraction of a second;
- every HEARTBEAT_SECONDS, heartbeat samples for spend, in SQL (sync.heartbeats_write): a deployment
  nothing happened to still gets a sample every SAMPLE_HEARTBEAT_SECONDS, without being decided;
- every settings.WATCH_SWEEP_SECONDS, every live deployment is decided from what the watches hold, a
  safety net (a deployment pushed after its objects' last event, say); only rows where something
  changed are written;
- the watches list again every settings.WATCH_RESYNC_SECONDS, in their own threads (clusters/watch.py).

Deciding is sync's (sync.observations_apply, sync._observation), so the watcher and the list sync
cannot disagree. One cluster down marks only its deployments "cluster <name> unreachable" and
never holds up the others: each cluster's watches run in threads of their own.
"""

import logging
import os
import time
from collections import defaultdict
from dataclasses import dataclass
from functools import cache

from django.conf import settings
from django.db import close_old_connections, connection
from django.db.models import Q
from django.utils import timezone

from clusters.client import default_cluster_configured
from clusters.labels import namespace_for
from clusters.models import Cluster
from clusters.selectors import clusters_by_region
from clusters.watch import ClusterWatch

from ..models import Deployment
from ..state import SYNCED_STATUSES
from .sync import _cron_children, _observation, heartbeats_write, ids_in, observations_apply

log = logging.getLogger(__name__)

FLUSH_SECONDS = 0.1
# Under a stream of changes, writes are batched at most this often: one transaction per change cost the
# watcher most of its CPU at 5,000 deployments (bench/bench_watch.py); a lone change is still written at once.
FLUSH_GAP_SECONDS = 0.6
SWEEP_INSTEAD = 500  # more changed deployments than this in one flush: decide them as a sweep does
ALIVE_SECONDS = 5.0  # the probe's file is touched this often (k8s/base/watcher.yaml allows 60 s)
HEARTBEAT_SECONDS = 15.0  # how often heartbeat samples are looked for (they are due every SAMPLE_HEARTBEAT_SECONDS)
# Heartbeats are written this many deployments at a time, a flush between two batches: all 5,000 in one
# transaction took 0.66 s, which a pod change waited out (bench/bench_watch.py, its p95 doubled).
HEARTBEAT_BATCH = 500
CLUSTERS_REFRESH_SECONDS = 30.0  # staff add, disable or reassign clusters in the admin console
DEFAULT = "default"  # the name of settings.KUBECONFIG's cluster, as messages call it


def _watch_name(ref):
    return ref.name if ref is not None else DEFAULT


_LIVE_FIELDS = ("id", "name", "target", "current_run", "scheduled", "region")  # then the team's slug: _Live


@cache
def _live_named_sql():
    quote, meta = connection.ops.quote_name, Deployment._meta
    team = meta.get_field("team")
    columns = ", ".join(f"d.{quote(meta.get_field(name).column)}" for name in _LIVE_FIELDS)
    return (f"SELECT {columns}, t.{quote('slug')} FROM {quote(meta.db_table)} d "
            f"JOIN {quote(team.related_model._meta.db_table)} t "
            f"ON t.{quote(team.target_field.column)} = d.{quote(team.column)} "
            f"WHERE d.{quote('status')} = ANY(%s) AND d.{quote('name')} = ANY(%s)")


@dataclass(frozen=True, slots=True)
class _Live:
    """What deciding needs of a live deployment before its row is read: a sweep of thousands reads
    these as tuples instead of model instances."""

    pk: int
    name: str
    target: str
    current_run: int | None
    scheduled: bool
    region: str
    team_slug: str

    @property
    def namespace(self):
        return namespace_for(self.team_slug)


class Watcher:
    def __init__(self, *, names=None, resync_seconds=None, sweep_seconds=None):
        self.names = set(names or ())  # only these clusters ("default" for KUBECONFIG's); empty: all
        self.resync_seconds = resync_seconds or settings.WATCH_RESYNC_SECONDS
        self.sweep_seconds = sweep_seconds or settings.WATCH_SWEEP_SECONDS
        self.watches = {}  # name -> ClusterWatch
        self._marked = {}  # name -> the "unreachable" message its deployments carry now
        self._swept = set()  # clusters swept since their mirror became ready
        self._routes = {}

    # --- clusters ---

    def clusters_refresh(self):
        """Start watching clusters that appeared (or changed), stop those that went away."""
        wanted = {c.name: c.ref() for c in Cluster.objects.filter(enabled=True)}
        if default_cluster_configured():
            wanted[DEFAULT] = None
        if self.names:
            wanted = {n: ref for n, ref in wanted.items() if n in self.names}
        for name in list(self.watches):
            if name not in wanted or self.watches[name].cluster != wanted[name]:
                self.watches.pop(name).stop()
                self._swept.discard(name)
                self._marked.pop(name, None)
        for name, ref in wanted.items():
            if name not in self.watches:
                log.info("watching cluster %s", name)
                self.watches[name] = ClusterWatch(ref, resync_seconds=self.resync_seconds, name=name).start()
        self._routes = clusters_by_region()

    def stop(self):
        for watch in self.watches.values():
            watch.stop()
        self.watches.clear()

    def _on(self, d):
        """The name of the cluster a deployment is on (its region's)."""
        return _watch_name(self._routes.get(d.region))

    # --- deciding ---

    def _decide(self, deployments, watch, now, *, changed_only):
        observations, children = {}, {}
        for d in deployments:
            seen, crons = watch.mirror.seen(d.namespace, d.name, d.target)
            started = _cron_children(seen) if crons else {}
            observations[d.pk] = _observation(d, seen, crons, started.get(d.name, []))
            if d.scheduled:
                children[d.pk] = started.get(d.name, [])
        if not observations:
            return 0, 0
        # Heartbeat samples are heartbeats_write's: a sweep writes only what the cluster changed.
        return observations_apply(observations, children, now, changed_only=changed_only, heartbeats=False)

    def _on_clusters(self, names):
        """A filter of the deployments on the clusters `names` (by their regions' routes), for SQL: a cluster's
        sweep reads its own deployments, not every live one of the installation."""
        served = {region: _watch_name(ref) for region, ref in self._routes.items()}
        where = Q(region__in=[region for region, name in served.items() if name in names])
        if DEFAULT in names:
            where |= ~Q(region__in=list(served))
        return where

    def _live(self, where=None):
        rows = (Deployment.objects.filter(where or Q(), status__in=SYNCED_STATUSES)
                .values_list(*_LIVE_FIELDS, "team__slug"))
        return [_Live(*row) for row in rows]

    @staticmethod
    def _live_named(names):
        """_live for the deployments of these names, in plain SQL: a flush (every FLUSH_GAP_SECONDS under churn)
        asks for the few that changed, and the ORM took longer to build the query than PostgreSQL to answer it."""
        with connection.cursor() as cursor:
            cursor.execute(_live_named_sql(), [list(SYNCED_STATUSES), list(names)])
            return [_Live(*row) for row in cursor.fetchall()]

    def flush(self):
        """Decide the deployments whose objects changed; mark a cluster's deployments while it is down."""
        now, written, changed = timezone.now(), 0, 0
        for name, watch in list(self.watches.items()):
            problem = watch.mirror.problem
            if problem is not None:
                self._unreachable_mark(name, problem)
                continue
            if not watch.mirror.ready():
                continue
            dirty, recovered = watch.mirror.take()
            if recovered or name not in self._swept or name in self._marked:
                self._marked.pop(name, None)
                written += self.sweep_one(name, now)
                continue
            if not dirty:
                continue
            if len(dirty) > SWEEP_INSTEAD:
                written += self.sweep_one(name, now)  # after a relist: the sweep's path is built for thousands
                continue
            names = {dep for _, dep in dirty}
            mine = [d for d in self._live_named(names)
                    if (d.namespace, d.name) in dirty and self._on(d) == name]
            w, c = self._decide(mine, watch, now, changed_only=False)
            written, changed = written + w, changed + c
        return written, changed

    def sweep_one(self, name, now):
        """Every live deployment of one cluster decided from its mirror; only changed rows written."""
        watch = self.watches[name]
        mine = self._live(self._on_clusters({name}))
        written, _ = self._decide(mine, watch, now, changed_only=True)
        Deployment.objects.filter(pk__in=ids_in(d.pk for d in mine)).update(last_synced_at=now)
        self._swept.add(name)
        return written

    def heartbeats(self, now=None, *, limit=None):
        """Heartbeat samples for the deployments of the clusters being watched (not of one that is down:
        what it runs is unknown, and spend stops counting after the gap, as with the list sync); at most
        `limit` of them, the longest unsampled first. How many were written."""
        healthy = {name for name, w in self.watches.items()
                   if name in self._swept and w.mirror.problem is None}
        return heartbeats_write(now or timezone.now(), where=self._on_clusters(healthy), limit=limit)

    def sweep(self):
        now, written = timezone.now(), 0
        for name, watch in list(self.watches.items()):
            if watch.mirror.problem is None and watch.mirror.ready():
                written += self.sweep_one(name, now)
        return written

    def _unreachable_mark(self, name, message):
        """Its deployments keep their status (the cluster's word is unknown, not bad) and say why they
        are not updated, once per message; the first decision after it is back replaces the message."""
        if self._marked.get(name) == message:
            return
        (Deployment.objects.filter(self._on_clusters({name}), status__in=SYNCED_STATUSES)
         .update(status_message=message[:2000]))
        self._marked[name] = message

    # --- the process ---

    def run(self, stop, *, on_flush=None):
        """Until `stop` (a threading.Event) is set."""
        self.clusters_refresh()
        next_sweep = time.monotonic() + self.sweep_seconds
        next_heartbeat = time.monotonic() + HEARTBEAT_SECONDS
        next_refresh = time.monotonic() + CLUSTERS_REFRESH_SECONDS
        last_flush, next_alive = 0.0, 0.0
        try:
            while not stop.wait(FLUSH_SECONDS):
                if time.monotonic() >= next_alive:
                    _alive()
                    next_alive = time.monotonic() + ALIVE_SECONDS
                try:
                    result = (0, 0)
                    if time.monotonic() - last_flush >= FLUSH_GAP_SECONDS:
                        result = self.flush()
                        if result != (0, 0):
                            last_flush = time.monotonic()
                    if time.monotonic() >= next_sweep:
                        self.sweep()
                        next_sweep = time.monotonic() + self.sweep_seconds
                    if time.monotonic() >= next_heartbeat:
                        full = self.heartbeats(limit=HEARTBEAT_BATCH) == HEARTBEAT_BATCH
                        # A full batch: more may be due, written after the next flush.
                        next_heartbeat = time.monotonic() + (0 if full else HEARTBEAT_SECONDS)
                    if time.monotonic() >= next_refresh:
                        self.clusters_refresh()
                        next_refresh = time.monotonic() + CLUSTERS_REFRESH_SECONDS
                    if on_flush is not None:
                        on_flush(result)
                except Exception:  # the database restarting must not end the watcher
                    log.exception("watcher: writing what the clusters report failed; trying again")
                    close_old_connections()
                    stop.wait(1.0)
        finally:
            self.stop()


def _alive():
    """Touch the heartbeat file the probes read (every pass of the loop, failed or not: a database that is
    down is not a reason to restart the watcher)."""
    path = settings.WATCHER_HEARTBEAT_FILE
    try:
        with open(path, "a"):
            os.utime(path)
    except OSError as exc:
        log.warning("cannot touch the watcher heartbeat file %s: %s", path, exc)


def deployments_by_cluster():
    """{cluster name: deployment count} of the live deployments (the command's start-up log)."""
    routes, counts = clusters_by_region(), defaultdict(int)
    for region in Deployment.objects.filter(status__in=SYNCED_STATUSES).values_list("region", flat=True):
        counts[_watch_name(routes.get(region))] += 1
    return dict(counts)
