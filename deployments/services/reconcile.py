"""Reconcile: queue again what never ran, and put back what was changed or lost in the cluster."""

import logging
from collections import defaultdict
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

import clusters
from audit.models import Event
from audit.services import event_record
from notifications.models import EventKind
from clusters.selectors import cluster_name, cluster_named, clusters_by_region
from notifications.services import notify
from specs.vocabulary import Status, Target

from ..dispatch import push_dispatch, teardown_dispatch
from ..models import Deployment
from ..state import LIVE_STATUSES
from .manifests import revision_manifests
from .push import (applied_cluster_key, cluster_key, cluster_name_of, deployment_move, object_deletable,
                   objects_to_apply, superseded_refs)

log = logging.getLogger(__name__)


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
    wanted = ((desired.get("metadata") or {}).get("annotations") or {}).get(clusters.REVISION_ANNOTATION)
    if wanted is not None and annotations.get(clusters.REVISION_ANNOTATION) != wanted:
        return f"{desired['kind']} {d.name} carries revision {annotations.get(clusters.REVISION_ANNOTATION)}, not {wanted}"
    if not _contains(obj.get("spec"), desired.get("spec")):
        return f"{desired['kind']} {d.name} was changed in the cluster"
    return None


def drift_detect():
    """Re-apply deployments whose main object is missing or changed in the cluster, or whose region another cluster
    serves now; returns how many were re-applied."""
    deployments = list(
        Deployment.objects.filter(status__in=LIVE_STATUSES, applied_revision__isnull=False)
        .exclude(target=Target.ARGO)  # a finished workflow run is not re-run behind the user's back
        .select_related("team", "current_revision")
    )
    routes = clusters_by_region()
    by_namespace = defaultdict(list)
    moved = []
    for d in deployments:
        if not (d.current_revision and d.current_revision.number == d.applied_revision):
            continue
        cluster = routes.get(d.region)
        if d.applied_cluster is not None and (d.applied_cluster or None) != cluster_key(cluster):
            # Staff gave its region to another cluster; one still applying would wait there forever (the sync
            # reads the region's cluster).
            moved.append((d, cluster))
        elif d.status != Status.APPLYING:
            by_namespace[(cluster, d.namespace)].append(d)
    drifted = sum(_moved(d, cluster) for d, cluster in moved)
    for (cluster, namespace), group in by_namespace.items():
        try:
            live = clusters.live_objects(namespace, {d.target for d in group}, cluster=cluster)
        except clusters.ClusterError as exc:
            log.warning("drift check of %s failed: %s", namespace, exc.message)
            continue
        for d in group:
            manifests = revision_manifests(d, d.current_revision)
            api_kind = clusters.TARGET_KINDS[d.target]
            desired = next((o for o in manifests if (o.get("apiVersion"), o.get("kind")) == api_kind), None)
            if desired is None:
                continue
            reason = _drift_reason(d, live.get((d.target, d.name)), desired)
            if reason is None:
                continue
            drifted += 1
            try:
                # The namespace itself may be what went missing (a rebuilt cluster).
                clusters.namespace_ensure(namespace, {clusters.TEAM_LABEL: d.team.slug}, cluster=cluster)
                clusters.objects_apply(objects_to_apply(manifests, d, cluster=cluster), cluster=cluster)
                outcome = "re-applied"
            except clusters.ClusterError as exc:
                outcome = f"re-apply failed ({exc.message}); will retry"
            now = timezone.now()
            Deployment.objects.filter(pk=d.pk).update(drift_detected_at=now)
            event_record(deployment=d, kind=Event.Kind.DRIFT, message=f"{reason}; {outcome}",
                         data={"revision": d.applied_revision})
            notify(kind=EventKind.DRIFT, team=d.team, deployment=d, message=f"{reason}; {outcome}",
                   data={"revision": d.applied_revision})
    return drifted


def _moved(d, cluster):
    """Move a deployment to its region's new cluster the way a push moves it (push.deployment_move)."""
    try:
        return deployment_move(deployment_id=d.pk)
    except clusters.ClusterError as exc:
        message = (f"Region {d.region} is served by cluster {cluster_name(cluster)} now: applying revision "
                   f"{d.applied_revision} there failed ({exc.message}); will retry")
        event_record(deployment=d, kind=Event.Kind.PUSH, message=message, data={"revision": d.applied_revision})
        return False


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
                teardown_dispatch(deployment_id=d.pk)
                message = "Tear down re-queued by reconcile"
            else:
                push_dispatch(deployment_id=d.pk, revision=d.current_revision.number)
                message = f"Push of revision {d.current_revision.number} re-queued by reconcile"
            event_record(deployment=d, kind=Event.Kind.PUSH, message=message)
        requeued += 1
    return requeued


# The new object serves (or its run finished): the one it replaces may go. A failed push keeps the old one.
SUPERSEDED_DONE = (Status.RUNNING, Status.SCALED_TO_ZERO, Status.SUCCEEDED)


def _ready_on(d, key):
    """Is the applied revision's main object ready on cluster `key`? A move by drift_detect keeps the status running
    (the old cluster serves meanwhile), so the status alone cannot say the new cluster is ready."""
    main = revision_manifests(d, d.current_revision)[-1]  # the Service or InferenceService comes last
    try:
        status = clusters.object_status(main, cluster=cluster_named(key))
    except clusters.ClusterError as exc:
        log.warning("reading %s on cluster %s failed: %s", d, cluster_name_of(key), exc.message)
        return False
    return status is not None and status["ready"] is True and status["revision"] in (None, str(d.applied_revision))


def superseded_remove():
    """Delete the objects of an earlier target, or left on the cluster a deployment moved away from, once the new
    ones are ready; returns how many went. A cluster that cannot be reached keeps its refs for the next round."""
    removed = 0
    waiting = (Deployment.objects.filter(status__in=SUPERSEDED_DONE, applied_revision__isnull=False)
               .exclude(superseded=[]).select_related("team", "current_revision"))
    for d in waiting:
        if d.current_revision is None or d.current_revision.number != d.applied_revision:
            continue  # a newer revision is on its way: wait for it
        refs = superseded_refs(d)
        here = applied_cluster_key(d)
        if d.target != Target.ARGO and any(ref["cluster"] != here for ref in refs) and not _ready_on(d, here):
            continue
        by_cluster = defaultdict(list)
        for ref in refs:
            by_cluster[ref["cluster"]].append(ref)
        kept, gone = [], []
        for key, group in by_cluster.items():
            objects = [{"apiVersion": r["apiVersion"], "kind": r["kind"],
                        "metadata": {"name": r["name"], "namespace": d.namespace}} for r in group]
            try:
                cluster = cluster_named(key)
                # A claim another live deployment of the team reads (or Gantry did not create) stays.
                deletable = [o for o in objects if object_deletable(o, d, cluster)]
                existed = clusters.objects_delete(deletable, propagation="Foreground", cluster=cluster)
            except clusters.ClusterError as exc:
                log.warning("removing the superseded objects of %s from cluster %s failed: %s", d,
                            cluster_name_of(key), exc.message)
                kept += group
                continue
            gone.append((key, group, deletable, existed))
        if not gone:
            continue
        # Compare-and-set: a push that recorded another superseded object meanwhile keeps it.
        if not Deployment.objects.filter(pk=d.pk, superseded=d.superseded).update(superseded=kept):
            continue
        for key, group, objects, existed in gone:
            removed += existed
            what = ", ".join(clusters.object_describe(o) for o in objects) or "nothing"
            ready = (f"revision {d.applied_revision} ({d.get_target_display()}) is "
                     f"{d.get_status_display().lower()}")
            if key == here:
                message = f"Removed {what}: {ready}"
            else:
                message = (f"Moved to cluster {cluster_name_of(here)}: removed {what} from cluster "
                           f"{cluster_name_of(key)}: {ready} there")
            event_record(deployment=d, kind=Event.Kind.PUSH, message=message, data={"removed": group})
    return removed


ORPHAN_LOOKBACK = timedelta(days=1)


def orphans_remove(*, now=None):
    """Delete Gantry's objects labelled with a deployment that is no longer there; returns how many.

    A push that landed after its deployment was torn down (before pushes and teardowns were ordered)
    left GPU pods running forever. Only namespaces where a deployment was deleted lately are looked
    at, so the cost stays flat; volumes are left alone (claims may be shared).
    """
    since = (now or timezone.now()) - ORPHAN_LOOKBACK
    recent = Deployment.objects.filter(status=Status.DELETED, updated_at__gte=since).select_related("team")
    routes = clusters_by_region()
    by_namespace = defaultdict(dict)
    for d in recent.order_by("updated_at"):
        by_namespace[(routes.get(d.region), d.namespace)][d.name] = d  # the latest deleted one of each name
    removed = 0
    for (cluster, namespace), deleted in by_namespace.items():
        team_id = next(iter(deleted.values())).team_id
        alive = set(Deployment.objects.filter(team_id=team_id).exclude(status=Status.DELETED)
                    .values_list("name", flat=True))
        try:
            objects = clusters.live_objects(namespace, set(clusters.TARGET_KINDS), cluster=cluster)
        except clusters.ClusterError as exc:
            log.warning("orphan check of %s failed: %s", namespace, exc.message)
            continue
        for obj in objects.values():
            name = ((obj.get("metadata") or {}).get("labels") or {}).get(clusters.DEPLOYMENT_LABEL)
            if name not in deleted or name in alive:
                continue
            try:
                clusters.objects_delete([obj], propagation="Foreground", cluster=cluster)
            except clusters.ClusterError as exc:
                log.warning("could not remove orphan %s: %s", clusters.object_describe(obj), exc.message)
                continue
            removed += 1
            event_record(deployment=deleted[name], kind=Event.Kind.TEARDOWN,
                         message=f"Removed {clusters.object_describe(obj)}, left in the cluster after the tear down")
    return removed


def reconcile():
    return {"requeued": stuck_requeue(), "drifted": drift_detect(), "orphans": orphans_remove(),
            "superseded": superseded_remove()}
