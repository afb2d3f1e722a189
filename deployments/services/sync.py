"""Status sync: what the cluster reports, written onto the deployments in a fixed number of queries.

The API calls grow with namespaces (clusters.namespace_observe), never with deployments; each
namespace is read on the cluster of its deployments' region (clusters.selectors), and a cluster that
cannot be read marks only its own deployments "cluster <name> unreachable". The SQL queries are a
constant (one read of the region -> cluster routes, one read, one locked read, one bulk update, two
bulk inserts, one update of the revisions that just became ready, for their time to ready, and one
update per unreachable cluster), whatever the number of deployments. What an observation means is decided in deployments/state.py.
"""

import logging
import time
from collections import defaultdict
from dataclasses import replace
from datetime import timedelta

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.dateparse import parse_datetime

import clusters
from audit.models import Event
from audit.services import event_build, events_record
from notifications.models import EventKind
from clusters.selectors import cluster_name, clusters_by_region
from notifications.services import notify
from rows.read import rows_read
from specs.render_batch import run_workflow_name
from specs.vocabulary import Status, Target
from spend.metering import cpu_held
from spend.models import StatusSample

from ..metrics import sync_cycle_record
from ..models import Deployment, Revision
from ..state import SYNCED_STATUSES, SYSTEM, status_from_observation, transition_allowed
from .runs import runs_mirror, scheduled_runs_record

log = logging.getLogger(__name__)

SYNC_FIELDS = [
    "status", "status_message", "updated_at", "ready_pods", "total_pods", "gpus_in_use", "url",
    "last_synced_at", "scaled_to_zero_at", "idle_since", "shards_total", "shards_done",
    "run_started_at", "run_finished_at", "sampled_at",
]


def _rows_update(deployments, fields):
    """One UPDATE ... FROM jsonb_to_recordset for all rows: linear in rows.

    Django's bulk_update builds one CASE WHEN per field with a branch per row, which PostgreSQL
    evaluates for every row: quadratic, minutes at 5,000 deployments (see bench/bench_sync.py).
    """
    if not deployments:
        return
    table = Deployment._meta.db_table
    columns = [Deployment._meta.get_field(name) for name in fields]
    rows = [{"id": d.pk, **{f.column: f.get_db_prep_save(getattr(d, f.attname), connection) for f in columns}}
            for d in deployments]
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(f.column)} = v.{quote(f.column)}" for f in columns)
    record = ", ".join(["id integer"] + [f"{quote(f.column)} {f.db_type(connection)}" for f in columns])
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {quote(table)} AS d SET {assignments} FROM jsonb_to_recordset(%s::jsonb) AS v({record}) "
            "WHERE d.id = v.id",
            [DjangoJSONEncoder().encode(rows)],
        )


def ids_in(ids):
    """For `pk__in=`: thousands of ids as one array parameter. A plain list costs Django ~0.1 ms per id
    to compile (0.9 s for a 5,000-deployment sweep, bench/bench_watch.py)."""
    return RawSQL("SELECT unnest(%s::integer[])", (list(ids),))


def heartbeats_write(now, *, where, limit=None):
    """Heartbeat samples, in SQL, for the live deployments matched by `where` (a Q) whose latest sample is
    older than SAMPLE_HEARTBEAT_SECONDS: the watcher decides a deployment only when the cluster says
    something changed, and spend still needs a sample at least every spend.metering.max_sample_gap().
    Each sample is the row as it stands (what the last decision wrote) with the CPU held from the latest
    sample (it changes only with the pods, which the watcher decides); last_synced_at moves with it.
    Three statements whatever the number of deployments; at most `limit` of them, the longest unsampled
    first; returns how many samples were written."""
    due = now - timedelta(seconds=settings.SAMPLE_HEARTBEAT_SECONDS)
    ids = list(Deployment.objects.filter(where, status__in=SYNCED_STATUSES, sampled_at__lt=due)
               .order_by("sampled_at").values_list("pk", flat=True)[:limit])
    if not ids:
        return 0
    quote = connection.ops.quote_name
    samples, deployments = quote(StatusSample._meta.db_table), quote(Deployment._meta.db_table)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {samples} (deployment_id, at, status, ready_pods, total_pods, gpus_in_use, gpu_class, "
            "vcpus_in_use, memory_gi_in_use) "
            "SELECT d.id, %s, d.status, d.ready_pods, d.total_pods, d.gpus_in_use, d.gpu_class, "
            "COALESCE(latest.vcpus_in_use, 0), COALESCE(latest.memory_gi_in_use, 0) "
            f"FROM {deployments} d LEFT JOIN LATERAL (SELECT s.vcpus_in_use, s.memory_gi_in_use FROM {samples} s "
            "WHERE s.deployment_id = d.id ORDER BY s.at DESC LIMIT 1) latest ON true "
            "WHERE d.id = ANY(%s) AND d.status = ANY(%s)",
            [now, ids, list(SYNCED_STATUSES)])
        Deployment.objects.filter(pk__in=ids_in(ids)).update(sampled_at=now, last_synced_at=now)
    return len(ids)


def _sample_due(d, now, *, changed):
    """A sample on every change, else a heartbeat: samples grow with changes, not with sync cycles.

    Spend holds a sample's GPUs until the next one (at most spend.max_sample_gap()), so the
    heartbeat must stay below that gap.
    """
    heartbeat = timedelta(seconds=settings.SAMPLE_HEARTBEAT_SECONDS)
    return changed or d.sampled_at is None or now - d.sampled_at >= heartbeat


def _observation(d, seen, crons, children):
    """The deployment's pods with its main object; a batch deployment's object is its current run's Workflow.

    On a schedule: the CronWorkflow, with the status (shards, times) of the latest Workflow it started
    (`children`, oldest first).
    """
    obs = seen.get((d.target, d.name)) or clusters.Observation()
    if d.target == Target.ARGO and d.scheduled:
        cron = crons.get(d.name)
        latest = seen[(Target.ARGO, children[-1][0])].status if children else None
        return replace(obs, obj=cron, status=latest or (clusters.status_read(cron) if cron else None))
    if d.target == Target.ARGO and d.current_run:
        run = seen.get((d.target, run_workflow_name(d.name, d.current_run)))
        obs = replace(obs, obj=run.obj if run else None, status=run.status if run else None)
    return obs


def _cron_children(seen):
    """{CronWorkflow name: [(name, status)]} of the Workflows each started, oldest first (Argo names them
    <cron>-<unix time>): one pass over the namespace's objects."""
    found = defaultdict(list)
    for (target, name), obs in seen.items():
        labels = ((obs.obj or {}).get("metadata") or {}).get("labels") or {}
        cron = labels.get(clusters.CRON_WORKFLOW_LABEL)
        if target == Target.ARGO and obs.obj is not None and cron:
            found[cron].append((name, obs.status))
    return {cron: sorted(items, key=lambda item: item[0]) for cron, items in found.items()}


def _crons(namespace, cluster):
    """{name: CronWorkflow} of a namespace (one list); {} when the cluster does not serve the kind."""
    try:
        return {o["metadata"]["name"]: o for o in clusters.objects_list(*clusters.ARGO_CRON, namespace,
                                                                         cluster=cluster)}
    except clusters.NotFound:
        log.warning("the cluster does not serve CronWorkflows: is Argo's CRD installed?")
        return {}


def _ready_at(d, obs, now):
    """When the deployment first ran its current revision ready (time to ready); None: not now, or known.

    The object's Ready condition says since when it is ready; a time before the push began belongs to
    an older revision (KServe stays Ready through a rollout), and then the time of this sync counts.
    """
    rev = d.current_revision
    if (rev is None or rev.pushed_at is None or rev.ready_at is not None or d.target == Target.ARGO
            or d.status not in (Status.RUNNING, Status.SCALED_TO_ZERO) or d.applied_revision != rev.number):
        return None
    since = parse_datetime((obs.status or {}).get("ready_since") or "")
    return since if since is not None and rev.pushed_at <= since <= now else now


def _unreachable_mark(by_namespace, down):
    """The deployments of a cluster that could not be read keep their status (the cluster's word is
    unknown, not bad) and say why they are not updated; the next sync that reads them replaces the message."""
    for cluster, message in down.items():
        ids = [d.pk for (on, _), group in by_namespace.items() if on == cluster for d in group]
        Deployment.objects.filter(pk__in=ids, status__in=SYNCED_STATUSES).update(status_message=message[:2000])


SYNC_LOCK = 7301  # PostgreSQL advisory lock key: one status sync at a time, across every worker


def status_sync(*, deployment_ids=None):
    """One pass over the namespaces with live deployments. Returns {"namespaces", "deployments", "changed"}.

    Single-flight: while another worker's sync runs, this one returns at once ({"skipped": True});
    two syncs locking the same rows in different orders deadlocked at worker concurrency 6.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [SYNC_LOCK])
        if not cursor.fetchone()[0]:
            return {"namespaces": 0, "deployments": 0, "changed": 0, "skipped": True}
    started = time.monotonic()
    try:
        result = _status_sync(deployment_ids)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [SYNC_LOCK])
    sync_cycle_record(seconds=time.monotonic() - started, **result)
    return result


def _status_sync(deployment_ids):
    now = timezone.now()
    queryset = Deployment.objects.filter(status__in=SYNCED_STATUSES).select_related("team")
    if deployment_ids is not None:
        queryset = queryset.filter(pk__in=deployment_ids)
    routes = clusters_by_region()
    by_namespace = defaultdict(list)  # (cluster, namespace): a team's namespace exists on each of its clusters
    for d in queryset.only("id", "name", "target", "current_run", "scheduled", "region", "team__slug"):
        by_namespace[(routes.get(d.region), d.namespace)].append(d)
    observations, children = {}, {}
    down = {}  # cluster -> the message for its deployments, once one of its namespaces could not be read
    for (cluster, namespace), group in by_namespace.items():
        if cluster in down:
            continue  # one dead cluster costs one timeout per cycle, not one per namespace
        try:
            seen = clusters.namespace_observe(namespace, {d.target for d in group}, cluster=cluster)
            crons = _crons(namespace, cluster) if any(d.scheduled for d in group) else {}
        except clusters.ClusterError as exc:
            # Keep the last known state of this namespace; the next cycle tries again.
            log.warning("status sync of %s on cluster %s failed: %s", namespace, cluster_name(cluster), exc.message)
            if cluster is not None:
                down[cluster] = f"cluster {cluster.name} unreachable: {exc.message}"
            continue
        except Exception:  # one namespace's surprise never stops the other teams' sync
            log.exception("status sync of %s failed on something the cluster sent", namespace)
            continue
        started = _cron_children(seen) if crons else {}
        for d in group:
            observations[d.pk] = _observation(d, seen, crons, started.get(d.name, []))
            if d.scheduled:
                children[d.pk] = started.get(d.name, [])
    _unreachable_mark(by_namespace, down)
    if not observations:
        return {"namespaces": len(by_namespace), "deployments": 0, "changed": 0}
    written, changed = observations_apply(observations, children, now)
    return {"namespaces": len(by_namespace), "deployments": written, "changed": changed}


# What a sync writes that says something changed; the time of the sync itself does not.
_CHANGE_FIELDS = [f for f in SYNC_FIELDS if f not in ("updated_at", "last_synced_at", "sampled_at")] + ["status_message"]
# What a dry decision reads (_decide, state.status_from_observation, audit.event_build), and nothing else: a
# watcher's sweep builds one model per live deployment, and building the other columns was most of its CPU at
# thousands of deployments (bench/bench_watch.py resync). A field read outside this list costs a query per row:
# tests/deployments/test_watching.py counts a sweep's queries.
_DRY_FIELDS = (*SYNC_FIELDS, "team", "name", "target", "scheduled", "applied_revision",
               "current_revision__number", "current_revision__pushed_at", "current_revision__ready_at")


class _Outcome:
    """What deciding a batch of deployments produced, written together."""

    def __init__(self):
        self.samples, self.events, self.ready, self.finished = [], [], [], []

    def __bool__(self):
        return bool(self.samples or self.events or self.ready or self.finished)


def _decide(d, obs, now, out, *, dry=False):
    """Decide one deployment from what the cluster reports: d's fields change in memory; events,
    samples, revisions that became ready and finished runs go to `out`. `dry`: only whether something
    would be written (a due sample is counted without reading the revision's spec)."""
    before = d.status
    seen_before = (d.ready_pods, d.total_pods, d.gpus_in_use)
    current = d.current_revision.number if d.current_revision else None
    try:
        new, message = status_from_observation(d, obs, now, current_revision=current)
    except Exception as exc:  # a status Gantry cannot read is this deployment's trouble alone
        log.exception("status sync of %s: cannot read what the cluster reports", d)
        new, message = before, f"The cluster reports a status Gantry cannot read ({type(exc).__name__})."
    if new != before and not transition_allowed(before, new, by=SYSTEM):
        log.error("sync: %s cannot go from %s to %s; left as it is", d, before, new)
        new, message = before, d.status_message
    d.status_message = message or ""
    if new != before:
        d.status, d.updated_at = new, now
        if new == Status.SCALED_TO_ZERO:
            d.scaled_to_zero_at = now
        if d.target == Target.ARGO and new in (Status.SUCCEEDED, Status.FAILED):
            out.finished.append((d, message))
        out.events.append(event_build(deployment=d, kind=Event.Kind.STATUS, from_status=before, to_status=new,
                                      message=message or f"Now {d.get_status_display().lower()}"))
    if _sample_due(d, now, changed=new != before or seen_before != (d.ready_pods, d.total_pods, d.gpus_in_use)):
        d.sampled_at = now
        if dry:
            out.samples.append(None)
            return
        vcpus, memory = cpu_held(d.current_revision.spec if d.current_revision else None, obs.running_pods)
        out.samples.append(StatusSample(deployment=d, at=now, status=d.status, ready_pods=d.ready_pods,
                                        total_pods=d.total_pods, gpus_in_use=d.gpus_in_use, gpu_class=d.gpu_class,
                                        vcpus_in_use=vcpus, memory_gi_in_use=memory))
    if (ready_at := _ready_at(d, obs, now)) is not None:
        d.current_revision.ready_at = ready_at
        out.ready.append(d.current_revision)


def _changed_ids(observations, now, *, heartbeats=True):
    """The deployments whose decision would write something (a field, an event, a sample), read without
    locks: a resync of thousands of unchanged deployments writes nothing. `heartbeats=False`: a sample due
    only because time passed does not count (the watcher writes those in SQL, heartbeats_write)."""
    changed = set()
    for d in (Deployment.objects.select_related("current_revision").only(*_DRY_FIELDS)
              .filter(pk__in=ids_in(observations), status__in=SYNCED_STATUSES)):
        before = [getattr(d, f) for f in _CHANGE_FIELDS]
        never_sampled = d.sampled_at is None
        out = _Outcome()
        _decide(d, observations[d.pk], now, out, dry=True)
        if not heartbeats and not never_sampled:
            out.samples.clear()
        if out or before != [getattr(d, f) for f in _CHANGE_FIELDS]:
            changed.add(d.pk)
    return changed


def observations_apply(observations, children, now, *, changed_only=False, heartbeats=True):
    """Decide and write the deployments in `observations` ({id: Observation}); `children`: {id: [(name,
    status)]} of the scheduled ones. Returns (rows written, status changes). `changed_only`: first decide
    without locks and write only the deployments where something changed (the watcher)."""
    if changed_only:
        keep = _changed_ids(observations, now, heartbeats=heartbeats)
        observations = {pk: obs for pk, obs in observations.items() if pk in keep}
        if not observations:
            return 0, 0
    out, locked = _Outcome(), []
    with transaction.atomic():
        # The row locks make the status change a compare-and-set for all deployments at once; every
        # decision reads the row (and its current revision) as locked, in one order (by id).
        # The rendered manifests (kilobytes a row) are never read here.
        # Plain SQL built once (rows/): the ORM took longer to build this query than a watcher's flush took to
        # decide what it read.
        rows = rows_read(Deployment, {"id__in": list(observations), "status__in": list(SYNCED_STATUSES)},
                         ("current_revision",), omit=(("current_revision", "manifests"),), lock=True)
        for d in rows:
            _decide(d, observations[d.pk], now, out)
            locked.append(d)
        _rows_update(locked, SYNC_FIELDS)
        if out.ready:
            Revision.objects.bulk_update(out.ready, ["ready_at"])
        runs_mirror([d for d in locked if d.target == Target.ARGO and not d.scheduled])
        scheduled_runs_record({d: children[d.pk] for d in locked if d.pk in children})
        StatusSample.objects.bulk_create(out.samples)
        events_record(out.events)
        for d, message in out.finished:
            notify(kind=EventKind.RUN_FINISHED, team=d.team, deployment=d, data={"run": d.current_run},
                   message=message or f"Run {d.current_run} {d.get_status_display().lower()}")
    return len(locked), len(out.events)
