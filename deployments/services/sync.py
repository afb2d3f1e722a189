"""Status sync, reconcile and drift detection.

Cost per cycle is fixed by design: the API calls grow with namespaces (one pods
list plus one list per custom-resource kind in use), never with deployments;
the SQL queries are a constant (one read, one locked read, one bulk update,
two bulk inserts), whatever the number of deployments.
"""

import logging
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import timedelta

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from .. import cluster
from ..models import Deployment, Event, StatusSample, Status, Target
from .lifecycle import task_enqueue_on_commit, revision_manifests

log = logging.getLogger(__name__)

# Deployments whose objects exist (or are being removed) in the cluster.
SYNCED_STATUSES = (Status.APPLYING, Status.RUNNING, Status.SCALED_TO_ZERO, Status.DELETING)
SYNC_FIELDS = [
    "status", "status_message", "updated_at", "ready_pods", "total_pods", "gpus_in_use", "url",
    "last_synced_at", "scaled_to_zero_at", "idle_since", "shards_total", "shards_done",
    "run_started_at", "run_finished_at", "sampled_at",
]
GPU_RESOURCE = "nvidia.com/gpu"


@dataclass
class Observation:
    ready_pods: int = 0
    total_pods: int = 0
    gpus_in_use: int = 0
    succeeded_pods: int = 0
    failed_pods: int = 0
    obj: dict | None = None  # the main object (Knative Service, InferenceService or Workflow), None: absent
    status: dict | None = None  # cluster.status_read(obj)


def _pod_gpus(pod):
    total = 0
    for container in (pod.get("spec") or {}).get("containers") or []:
        resources = container.get("resources") or {}
        value = (resources.get("limits") or {}).get(GPU_RESOURCE) or (resources.get("requests") or {}).get(GPU_RESOURCE)
        try:
            total += int(value or 0)
        except (TypeError, ValueError):
            continue
    return total


def _pod_ready(pod):
    conditions = (pod.get("status") or {}).get("conditions")
    if not conditions:
        return True  # a Running pod without conditions (as some simulators report it)
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def _pods_aggregate(pods):
    """Pods per deployment name, counted in memory: {name: Observation}."""
    out = defaultdict(Observation)
    for pod in pods:
        name = ((pod.get("metadata") or {}).get("labels") or {}).get(cluster.DEPLOYMENT_LABEL)
        if not name:
            continue
        obs = out[name]
        phase = (pod.get("status") or {}).get("phase")
        if phase == "Succeeded":
            obs.succeeded_pods += 1
        elif phase == "Failed":
            obs.failed_pods += 1
        else:
            obs.total_pods += 1
            if phase == "Running":
                # Only a scheduled, running pod holds its GPUs (and costs money).
                obs.gpus_in_use += _pod_gpus(pod)
                if _pod_ready(pod):
                    obs.ready_pods += 1
    return out


def namespace_observe(namespace, targets):
    """One pods list and one list per kind in use: {(target, name): Observation}. ClusterError propagates."""
    pods = _pods_aggregate(cluster.pods_list(namespace))
    observed = {}
    for target in sorted(targets):
        kind = cluster.TARGET_KINDS[target]
        try:
            items = cluster.objects_list(*kind, namespace)
        except cluster.NotFound:
            log.warning("the cluster does not serve %s/%s: is its CRD installed?", *kind)
            items = []
        for obj in items:
            observed[(target, obj["metadata"]["name"])] = obj
    result = defaultdict(Observation)
    for name, obs in pods.items():
        for target in targets:
            result[(target, name)] = replace(obs)
    for key, obj in observed.items():
        obs = result[key]
        obs.obj, obs.status = obj, cluster.status_read(obj)
    return result


def _current_generation(obs, deployment):
    """Does the object's status describe the revision last applied (not an older one)?"""
    meta = obs.obj.get("metadata") or {}
    revision = obs.status["revision"]
    if revision is not None and deployment.applied_revision is not None and revision != str(deployment.applied_revision):
        return False
    observed = (obs.obj.get("status") or {}).get("observedGeneration")
    generation = meta.get("generation")
    return observed is None or generation is None or observed >= generation


def _online_status(d, obs):
    """(status, message) for a Knative Service or InferenceService."""
    st = obs.status
    if st["ready"] is True and _current_generation(obs, d):
        if obs.total_pods == 0 and st["min_scale"] in (0, None):
            return Status.SCALED_TO_ZERO, ""
        return Status.RUNNING, ""
    if st["ready"] is False and _current_generation(obs, d) and d.status == Status.APPLYING:
        return Status.FAILED, st["message"] or "The service did not become ready."
    if d.status == Status.SCALED_TO_ZERO and obs.total_pods:
        return Status.RUNNING, ""
    return d.status, st["message"] if st["ready"] is False else d.status_message


def _batch_status(d, obs):
    phase = obs.status["phase"]
    if phase == "Succeeded":
        return Status.SUCCEEDED, ""
    if phase in ("Failed", "Error"):
        return Status.FAILED, obs.status["message"] or f"The workflow ended in phase {phase}."
    if phase in ("Pending", "Running") and _current_generation(obs, d):
        return Status.RUNNING, ""
    return d.status, d.status_message


def _observation_apply(d, obs, now):
    """Write what was seen onto the (locked) deployment; returns the new status and message."""
    d.ready_pods, d.total_pods, d.gpus_in_use = obs.ready_pods, obs.total_pods, obs.gpus_in_use
    d.last_synced_at = now
    if d.status == Status.DELETING:
        if obs.obj is None and obs.total_pods == 0:
            return Status.DELETED, "All objects removed from the cluster"
        return d.status, d.status_message
    if obs.obj is None:
        if d.target == Target.ARGO and d.status == Status.RUNNING:
            # A run is never re-run behind the user's back (reconcile skips workflows): say it is lost.
            return Status.FAILED, "The workflow disappeared from the cluster before it finished; deploy it again."
        return d.status, d.status_message  # not there (yet, or drifted): reconcile's business
    d.url = obs.status["url"] or d.url
    d.idle_since = parse_datetime(obs.status.get("idle_since") or "") if obs.total_pods else None
    if d.target == Target.ARGO:
        if obs.status["progress"]:
            d.shards_done, d.shards_total = obs.status["progress"]
        else:
            d.shards_done = obs.succeeded_pods
        d.run_started_at = parse_datetime(obs.status["started_at"] or "") or d.run_started_at
        d.run_finished_at = parse_datetime(obs.status["finished_at"] or "") or d.run_finished_at
        return _batch_status(d, obs)
    return _online_status(d, obs)


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


def status_sync(*, deployment_ids=None):
    """One pass over the namespaces with live deployments. Returns {"namespaces", "deployments", "changed"}."""
    now = timezone.now()
    queryset = Deployment.objects.filter(status__in=SYNCED_STATUSES).select_related("team", "current_revision")
    if deployment_ids is not None:
        queryset = queryset.filter(pk__in=deployment_ids)
    by_namespace = defaultdict(list)
    current = {}  # pk -> current revision number
    for d in queryset.only("id", "name", "target", "team__slug", "current_revision__number"):
        by_namespace[d.namespace].append(d)
        current[d.pk] = d.current_revision.number if d.current_revision else None
    observations = {}
    for namespace, group in by_namespace.items():
        try:
            seen = namespace_observe(namespace, {d.target for d in group})
        except cluster.ClusterError as exc:
            # Keep the last known state of this namespace; the next cycle tries again.
            log.warning("status sync of %s failed: %s", namespace, exc.message)
            continue
        for d in group:
            observations[d.pk] = seen.get((d.target, d.name)) or Observation()
    if not observations:
        return {"namespaces": len(by_namespace), "deployments": 0, "changed": 0}

    samples, events, locked = [], [], []
    with transaction.atomic():
        # The row locks make the status change a compare-and-set for all deployments at once.
        for d in Deployment.objects.select_for_update().filter(pk__in=observations, status__in=SYNCED_STATUSES):
            before = d.status
            seen_before = (d.ready_pods, d.total_pods, d.gpus_in_use)
            new, message = _observation_apply(d, observations[d.pk], now)
            if before == Status.APPLYING and d.applied_revision != current[d.pk] and new != Status.DELETED:
                # The push of the current revision has not finished: what we see is an older one.
                new, message = before, d.status_message
            d.status_message = message or ""
            if new != before:
                d.status, d.updated_at = new, now
                if new == Status.SCALED_TO_ZERO:
                    d.scaled_to_zero_at = now
                events.append(Event(deployment=d, team_id=d.team_id, kind=Event.Kind.STATUS, from_status=before,
                                    to_status=new, message=message or f"Now {d.get_status_display().lower()}"))
            if _sample_due(d, now, changed=new != before or seen_before != (d.ready_pods, d.total_pods,
                                                                              d.gpus_in_use)):
                d.sampled_at = now
                samples.append(StatusSample(deployment=d, at=now, status=d.status, ready_pods=d.ready_pods,
                                            total_pods=d.total_pods, gpus_in_use=d.gpus_in_use,
                                            gpu_class=d.gpu_class))
            locked.append(d)
        _rows_update(locked, SYNC_FIELDS)
        StatusSample.objects.bulk_create(samples)
        Event.objects.bulk_create(events)
    return {"namespaces": len(by_namespace), "deployments": len(locked), "changed": len(events)}


def _contains(live, desired):
    """Is everything Gantry rendered present in the live object (which may carry server defaults)?"""
    if isinstance(desired, dict):
        return isinstance(live, dict) and all(k in live and _contains(live[k], v) for k, v in desired.items())
    if isinstance(desired, list):
        return isinstance(live, list) and len(live) == len(desired) and all(map(_contains, live, desired))
    return live == desired or (isinstance(desired, (int, float)) and str(desired) == str(live))


def _drift_reason(d, obj, desired):
    if obj is None:
        return f"{desired['kind']} {d.name} is missing from the cluster"
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    wanted = ((desired.get("metadata") or {}).get("annotations") or {}).get(cluster.REVISION_ANNOTATION)
    if wanted is not None and annotations.get(cluster.REVISION_ANNOTATION) != wanted:
        return f"{desired['kind']} {d.name} carries revision {annotations.get(cluster.REVISION_ANNOTATION)}, not {wanted}"
    if not _contains(obj.get("spec"), desired.get("spec")):
        return f"{desired['kind']} {d.name} was changed in the cluster"
    return None


def drift_detect():
    """Re-apply deployments whose main object is missing or changed in the cluster; returns how many drifted."""
    deployments = list(
        Deployment.objects.filter(status__in=(Status.RUNNING, Status.SCALED_TO_ZERO), applied_revision__isnull=False)
        .exclude(target=Target.ARGO)  # a finished workflow run is not re-run behind the user's back
        .select_related("team", "current_revision")
    )
    by_namespace = defaultdict(list)
    for d in deployments:
        if d.current_revision and d.current_revision.number == d.applied_revision:
            by_namespace[d.namespace].append(d)
    drifted = 0
    for namespace, group in by_namespace.items():
        try:
            live = {}
            for target in sorted({d.target for d in group}):
                for obj in cluster.objects_list(*cluster.TARGET_KINDS[target], namespace):
                    live[(target, obj["metadata"]["name"])] = obj
        except cluster.ClusterError as exc:
            log.warning("drift check of %s failed: %s", namespace, exc.message)
            continue
        for d in group:
            manifests = revision_manifests(d, d.current_revision)
            api_kind = cluster.TARGET_KINDS[d.target]
            desired = next((o for o in manifests if (o.get("apiVersion"), o.get("kind")) == api_kind), None)
            if desired is None:
                continue
            reason = _drift_reason(d, live.get((d.target, d.name)), desired)
            if reason is None:
                continue
            drifted += 1
            try:
                # The namespace itself may be what went missing (a rebuilt cluster).
                cluster.namespace_ensure(namespace, {cluster.TEAM_LABEL: d.team.slug})
                cluster.objects_apply(manifests)
                outcome = "re-applied"
            except cluster.ClusterError as exc:
                outcome = f"re-apply failed ({exc.message}); will retry"
            now = timezone.now()
            Deployment.objects.filter(pk=d.pk).update(drift_detected_at=now)
            Event.objects.create(deployment=d, team_id=d.team_id, kind=Event.Kind.DRIFT, from_status=d.status,
                                 to_status=d.status, message=f"{reason}; {outcome}", data={"revision": d.applied_revision})
    return drifted


def stuck_requeue():
    """Queue again what should have moved but did not (broker down at submit, worker killed)."""
    now = timezone.now()
    cutoff = now - timedelta(seconds=settings.STUCK_AFTER_SECONDS)
    requeued = 0
    stuck = (
        Deployment.objects.filter(status__in=(Status.QUEUED, Status.APPLYING, Status.DELETING), updated_at__lt=cutoff)
        .select_related("current_revision")
    )
    for d in stuck:
        if d.status == Status.APPLYING and d.current_revision and d.applied_revision == d.current_revision.number:
            continue  # pushed; waiting for the cluster to report it ready
        if d.status != Status.DELETING and d.current_revision is None:
            continue
        # Compare-and-set on updated_at: two reconcilers never queue the same work twice.
        with transaction.atomic():
            if not Deployment.objects.filter(pk=d.pk, status=d.status, updated_at=d.updated_at).update(updated_at=now):
                continue
            if d.status == Status.DELETING:
                task_enqueue_on_commit("teardown_deployment", d.pk)
                message = "Tear down re-queued by reconcile"
            else:
                task_enqueue_on_commit("push_deployment", d.pk, d.current_revision.number)
                message = f"Push of revision {d.current_revision.number} re-queued by reconcile"
            Event.objects.create(deployment=d, team_id=d.team_id, kind=Event.Kind.PUSH, from_status=d.status,
                                 to_status=d.status, message=message)
        requeued += 1
    return requeued


def reconcile():
    return {"requeued": stuck_requeue(), "drifted": drift_detect()}
