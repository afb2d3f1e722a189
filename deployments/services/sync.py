"""Status sync: what the cluster reports, written onto the deployments in a fixed number of queries.

The API calls grow with namespaces (clusters.namespace_observe), never with deployments; the
SQL queries are a constant (one read, one locked read, one bulk update, two bulk inserts),
whatever the number of deployments. What an observation means is decided in deployments/state.py.
"""

import logging
from collections import defaultdict
from datetime import timedelta

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

import clusters
from audit.models import Event
from audit.services import event_build, events_record
from specs.vocabulary import Status
from spend.models import StatusSample

from ..models import Deployment
from ..state import SYNCED_STATUSES, SYSTEM, status_from_observation, transition_allowed

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


def _sample_due(d, now, *, changed):
    """A sample on every change, else a heartbeat: samples grow with changes, not with sync cycles.

    Spend holds a sample's GPUs until the next one (at most spend.max_sample_gap()), so the
    heartbeat must stay below that gap.
    """
    heartbeat = timedelta(seconds=settings.SAMPLE_HEARTBEAT_SECONDS)
    return changed or d.sampled_at is None or now - d.sampled_at >= heartbeat


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
    try:
        return _status_sync(deployment_ids)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [SYNC_LOCK])


def _status_sync(deployment_ids):
    now = timezone.now()
    queryset = Deployment.objects.filter(status__in=SYNCED_STATUSES).select_related("team")
    if deployment_ids is not None:
        queryset = queryset.filter(pk__in=deployment_ids)
    by_namespace = defaultdict(list)
    for d in queryset.only("id", "name", "target", "team__slug"):
        by_namespace[d.namespace].append(d)
    observations = {}
    for namespace, group in by_namespace.items():
        try:
            seen = clusters.namespace_observe(namespace, {d.target for d in group})
        except clusters.ClusterError as exc:
            # Keep the last known state of this namespace; the next cycle tries again.
            log.warning("status sync of %s failed: %s", namespace, exc.message)
            continue
        except Exception:  # one namespace's surprise never stops the other teams' sync
            log.exception("status sync of %s failed on something the cluster sent", namespace)
            continue
        for d in group:
            observations[d.pk] = seen.get((d.target, d.name)) or clusters.Observation()
    if not observations:
        return {"namespaces": len(by_namespace), "deployments": 0, "changed": 0}

    samples, events, locked = [], [], []
    with transaction.atomic():
        # The row locks make the status change a compare-and-set for all deployments at once; every
        # decision reads the row (and its current revision) as locked, in one order (by id).
        rows = (Deployment.objects.select_for_update(of=("self",)).select_related("current_revision")
                .filter(pk__in=observations, status__in=SYNCED_STATUSES).order_by("pk"))
        for d in rows:
            before = d.status
            seen_before = (d.ready_pods, d.total_pods, d.gpus_in_use)
            current = d.current_revision.number if d.current_revision else None
            try:
                new, message = status_from_observation(d, observations[d.pk], now, current_revision=current)
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
                events.append(event_build(deployment=d, kind=Event.Kind.STATUS, from_status=before, to_status=new,
                                          message=message or f"Now {d.get_status_display().lower()}"))
            if _sample_due(d, now, changed=new != before or seen_before != (d.ready_pods, d.total_pods,
                                                                              d.gpus_in_use)):
                d.sampled_at = now
                samples.append(StatusSample(deployment=d, at=now, status=d.status, ready_pods=d.ready_pods,
                                            total_pods=d.total_pods, gpus_in_use=d.gpus_in_use,
                                            gpu_class=d.gpu_class))
            locked.append(d)
        _rows_update(locked, SYNC_FIELDS)
        StatusSample.objects.bulk_create(samples)
        events_record(events)
    return {"namespaces": len(by_namespace), "deployments": len(locked), "changed": len(events)}
