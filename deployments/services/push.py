"""What the workers do with a deployment: push a revision to the cluster, record a failed push, tear down.

Called by the thin tasks in deployments/tasks.py, which retry a transient ClusterError with
backoff; a permanent one ends in `deployment_push_failed`.
"""

import logging
from contextlib import contextmanager

from django.db import connection, transaction
from django.utils import timezone

import clusters
from audit.models import Event
from audit.services import event_build
from notifications.models import EventKind
from notifications.services import notify
from clusters.selectors import cluster_for_region, cluster_named, cluster_name
from rows.read import row_read
from specs.vocabulary import Status, Target

from ..models import Deployment, Revision
from ..state import LIVE_STATUSES
from .lifecycle import deployment_transition, transition_check
from .manifests import deployment_objects, revision_manifests
from .statements import row_update_recorded

log = logging.getLogger(__name__)


PUSH_LOCK = 7302  # advisory lock class: one push or teardown of a deployment at a time


@contextmanager
def deployment_lock(deployment_id):
    """Hold the deployment's PostgreSQL advisory lock while its objects are applied or deleted.

    A tear down requested while an apply is in flight waits for the apply to land, then deletes what
    it applied; a push that gets the lock after a tear down started sees `deleting` and does nothing.
    """
    key = (PUSH_LOCK << 32) + int(deployment_id)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [key])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [key])


def deployment_push(*, deployment_id, revision):
    """Apply a revision to the cluster. ClusterError propagates to the task.

    Returns False when there was nothing to do: the deployment moved on (newer revision,
    torn down, already applied) before this message was handled.
    """
    with deployment_lock(deployment_id):
        return _push(deployment_id, revision)


def _one(queryset):
    """The row of a queryset filtered by primary key, or None, read without ORDER BY: compiling the model's Meta
    ordering (a deployment's joins its team) took about a quarter of the read's CPU in the push profile."""
    return next(iter(queryset.order_by()), None)


def _push(deployment_id, revision):
    deployment = row_read(Deployment, {"id": deployment_id}, ("team", "current_revision"))
    if deployment is None or deployment.current_revision is None:
        return False
    current = deployment.current_revision
    if revision < current.number:
        log.info("push of %s r%s skipped: superseded by r%s", deployment, revision, current.number)
        return False
    if deployment.status not in (Status.QUEUED, Status.APPLYING):
        log.info("push of %s r%s skipped: deployment is %s", deployment, revision, deployment.status)
        return False
    rev = current if current.number == revision else deployment.revisions.get(number=revision)
    if deployment.status == Status.QUEUED:
        if not _applying_begin(deployment, rev):
            log.info("push of %s r%s skipped: the deployment changed meanwhile", deployment, revision)
            return False
    else:
        with transaction.atomic():  # a retry: the attempt and the revision's first push, one commit
            _attempt_record(deployment, rev)
    run = deployment.current_run if deployment.target == Target.ARGO else None
    _apply(deployment, rev, revision_manifests(deployment, rev, run=run), cluster_for_region(deployment.region))
    return True


def deployment_move(*, deployment_id):
    """Apply the applied revision on the cluster that serves the deployment's region now, when staff gave the region
    to another cluster than the one it was applied to; recorded as a push, the old cluster's objects kept until the new
    ones are ready (reconcile's superseded_remove). False when there was nothing to move. ClusterError propagates."""
    with deployment_lock(deployment_id):
        deployment = _one(Deployment.objects.select_related("team", "current_revision")
                          .filter(pk=deployment_id, status__in=LIVE_STATUSES))
        if deployment is None or deployment.current_revision is None:
            return False
        rev, cluster = deployment.current_revision, cluster_for_region(deployment.region)
        if rev.number != deployment.applied_revision or cluster_key(cluster) == applied_cluster_key(deployment):
            return False  # a push of a newer revision is on its way (it moves it), or it is where it should be
        _attempt_record(deployment, rev)
        _apply(deployment, rev, revision_manifests(deployment, rev), cluster,
               why=f"Region {deployment.region} is served by cluster {cluster_name(cluster)} now: ")
        return True


def _applying_begin(deployment, rev):
    """Queued to applying, with the attempt counted (it rides on the status change), the revision's first push
    time and the status event: one statement (statements.py), written only if the deployment is still queued.
    The same rules as deployment_transition, which takes a statement for the move and another for its event."""
    transition_check((Status.QUEUED,), Status.APPLYING)
    fields = {"status": Status.APPLYING, "updated_at": timezone.now(), **_attempt(deployment)}
    event = event_build(deployment=deployment, kind=Event.Kind.STATUS, from_status=Status.QUEUED,
                        to_status=Status.APPLYING, message=f"Applying revision {rev.number}")
    first = [] if rev.pushed_at is not None else [
        (Revision, {"pushed_at": fields["last_pushed_at"]}, {"id": rev.pk, "pushed_at__isnull": True})]
    if not row_update_recorded(deployment, fields, event=event, where={"status": Status.QUEUED}, also=first):
        return False
    rev.pushed_at = rev.pushed_at or fields["last_pushed_at"]
    return True


def _attempt(deployment):
    """The fields of one more push attempt. Read under the deployment's lock, which every push holds: exact."""
    return {"push_attempts": deployment.push_attempts + 1, "last_pushed_at": timezone.now()}


def _attempt_record(deployment, rev):
    """Count a push attempt, before the cluster is called (a failed attempt counts too)."""
    fields = _attempt(deployment)
    Deployment.objects.filter(pk=deployment.pk).update(**fields)
    _first_push_record(rev, fields["last_pushed_at"])


def _first_push_record(rev, started):
    # Time to ready counts from the first attempt: retries are part of what the user waited for.
    if rev.pushed_at is None:
        Revision.objects.filter(pk=rev.pk, pushed_at__isnull=True).update(pushed_at=started)
        rev.pushed_at = started


def _apply(deployment, rev, objects, cluster, *, why=""):
    """Apply a revision's objects on `cluster` (its attempt recorded) and record it in one commit: the revision
    applied and where, what it supersedes, and a push event (saying where from, when it moved to another cluster)."""
    before = applied_cluster_key(deployment)
    superseded = _superseded(deployment, objects, cluster)
    clusters.namespace_ensure(deployment.namespace, {clusters.TEAM_LABEL: deployment.team.slug}, cluster=cluster)
    objects = objects_to_apply(objects, deployment, cluster=cluster)
    clusters.objects_apply(objects, cluster=cluster)
    message = f"Applied revision {rev.number} ({len(objects)} objects)"
    data = {"revision": rev.number, "objects": [clusters.object_describe(o) for o in objects]}
    if deployment.applied_revision is not None and before != cluster_key(cluster):
        message += (f" on cluster {cluster_name(cluster)}, moved from cluster {cluster_name_of(before)}: "
                    f"its objects there keep serving until this one is ready, then reconcile removes them")
        data.update(cluster=cluster_key(cluster), moved_from=before)
    event = event_build(deployment=deployment, kind=Event.Kind.PUSH, message=why + message, data=data)
    row_update_recorded(deployment, {"applied_revision": rev.number, "status_message": "", "superseded": superseded,
                                     "updated_at": timezone.now(), "applied_cluster": cluster_key(cluster) or ""},
                        event=event)


def cluster_key(cluster):
    """How a cluster is recorded on a deployment: its record's name, None for the default cluster."""
    return cluster.name if cluster is not None else None


def cluster_name_of(key):
    return key or "default"


def applied_cluster_key(deployment):
    """The cluster the deployment was last applied to (its region's when that was not recorded)."""
    if deployment.applied_cluster is None:
        return cluster_key(cluster_for_region(deployment.region))
    return deployment.applied_cluster or None


def superseded_refs(deployment):
    """The superseded refs, each with the cluster it is on (a ref written before clusters: where it was applied)."""
    refs = [ref for ref in deployment.superseded or [] if isinstance(ref, dict)]
    if any("cluster" not in ref for ref in refs):
        here = applied_cluster_key(deployment)
        refs = [ref if "cluster" in ref else {**ref, "cluster": here} for ref in refs]
    return refs


def _main_ref(objects):
    main = objects[-1]  # the Service, InferenceService or Workflow comes last (specs/render.py)
    return {"apiVersion": main["apiVersion"], "kind": main["kind"], "name": main["metadata"]["name"]}


def _ref(obj, cluster):
    return {"apiVersion": obj["apiVersion"], "kind": obj["kind"], "name": obj["metadata"]["name"], "cluster": cluster}


def _superseded(deployment, objects, cluster):
    """What this push replaces, kept serving until it is ready: the earlier main object of another kind, or,
    when the deployment moves to another cluster (its region changed), all its objects on the old cluster."""
    pending = superseded_refs(deployment)
    if deployment.applied_revision is None:
        return pending
    here, before = cluster_key(cluster), applied_cluster_key(deployment)
    new = _main_ref(objects)
    if before != here:
        for obj in deployment_objects(deployment):
            ref = _ref(obj, before)
            if obj.get("kind") != "Namespace" and ref not in pending:
                pending.append(ref)
    else:
        previous = deployment.revisions.filter(number=deployment.applied_revision).first()
        if previous is not None:
            old = {**_main_ref(revision_manifests(deployment, previous)), "cluster": here}
            if (old["apiVersion"], old["kind"]) != (new["apiVersion"], new["kind"]) and old not in pending:
                pending.append(old)
    # Switching back (to a kind, or a cluster) still waiting for removal keeps what this push applies there.
    applying = {(o.get("apiVersion"), o.get("kind"), (o.get("metadata") or {}).get("name")) for o in objects}
    return [ref for ref in pending if ref["cluster"] != here or (
        (ref["apiVersion"], ref["kind"]) != (new["apiVersion"], new["kind"])
        and (ref["apiVersion"], ref["kind"], ref["name"]) not in applying)]


def objects_to_apply(objects, deployment, *, cluster=None):
    """Volumes: create one, grow our own, never shrink or take over someone else's (clusters/volumes.py)."""
    out = []
    for obj in objects:
        checked = (clusters.claim_to_apply(obj, deployment_name=deployment.name, cluster=cluster)
                   if clusters.is_claim(obj) else obj)
        if checked is None:
            log.info("%s: %s exists and is not this deployment's: used as it is", deployment,
                     clusters.object_describe(obj))
            continue
        out.append(checked)
    return out


def _claim_users(deployment, claim):
    """Other deployments of the team that may still read the claim (anything not deleted or going away)."""
    return (Deployment.objects.filter(team_id=deployment.team_id)
            .exclude(pk=deployment.pk).exclude(status__in=(Status.DELETED, Status.DELETING))
            .filter(current_revision__spec__model__uri__startswith=f"pvc://{claim}/"))


def object_deletable(obj, deployment, cluster):
    """A claim is deleted only if Gantry created it and no other live deployment of the team reads it."""
    if not clusters.is_claim(obj):
        return True
    live = clusters.object_get(obj, cluster=cluster)
    if live is None:
        return True
    return clusters.created_by_gantry(live) and not _claim_users(deployment, obj["metadata"]["name"]).exists()


def _scheduled_runs(deployment, cluster):
    """The Workflows a CronWorkflow started. Kubernetes' garbage collector removes them with it (they carry an
    owner reference); listing them as well makes the tear down wait until they are really gone."""
    if not deployment.scheduled:
        return []
    selector = f"{clusters.CRON_WORKFLOW_LABEL}={deployment.name},{clusters.MANAGED_SELECTOR}"
    return clusters.objects_list(*clusters.ARGO, deployment.namespace, label_selector=selector, cluster=cluster)


def deployment_push_failed(*, deployment_id, revision, message):
    """A push gave up: the deployment is failed with a message the user can act on."""
    deployment = Deployment.objects.filter(pk=deployment_id).select_related("current_revision").first()
    if deployment is None or (deployment.current_revision and revision < deployment.current_revision.number):
        return False
    moved = deployment_transition(
        deployment=deployment, expected=(Status.APPLYING, Status.QUEUED), new=Status.FAILED,
        message=f"Push of revision {revision} failed: {message}", status_message=message,
        data={"revision": revision},
    )
    if moved:
        notify(kind=EventKind.PUSH_FAILED, team=deployment.team, deployment=deployment, data={"revision": revision},
               message=f"Push of revision {revision} failed: {message}")
    return moved


def deployment_teardown_failed(*, deployment_id, message):
    """A tear down the cluster refused for good: visible, with the server's words; staff or the team retry it."""
    deployment = Deployment.objects.filter(pk=deployment_id).first()
    if deployment is None:
        return False
    moved = deployment_transition(
        deployment=deployment, expected=Status.DELETING, new=Status.TEARDOWN_FAILED, kind=Event.Kind.TEARDOWN,
        message=f"Tear down failed: {message}", status_message=message,
    )
    if moved:
        notify(kind=EventKind.TEARDOWN_FAILED, team=deployment.team, deployment=deployment,
               message=f"Tear down failed: {message}")
    return moved


def deployment_teardown_run(*, deployment_id):
    """Delete the deployment's objects (foreground); deleted once they are all gone, else sync finishes it."""
    with deployment_lock(deployment_id):
        return _teardown(deployment_id)


def _teardown(deployment_id):
    deployment = Deployment.objects.select_related("team").filter(pk=deployment_id).first()
    if deployment is None or deployment.status != Status.DELETING:
        return False
    # Its region's cluster, and the one it was applied to or is moving away from (a move not yet finished).
    keys = [cluster_key(cluster_for_region(deployment.region)), applied_cluster_key(deployment)]
    keys += [ref["cluster"] for ref in superseded_refs(deployment)]
    keys = list(dict.fromkeys(keys))
    removed, remaining = 0, 0
    for key in keys:
        cluster = cluster_named(key)
        objects = [obj for obj in deployment_objects(deployment) if object_deletable(obj, deployment, cluster)]
        objects += _scheduled_runs(deployment, cluster)
        clusters.objects_delete(objects, propagation="Foreground", cluster=cluster)
        remaining += sum(1 for obj in objects if clusters.object_get(obj, cluster=cluster) is not None)
        removed += len(objects)
    if remaining:
        return False
    where = "the cluster" if len(keys) == 1 else "clusters " + ", ".join(cluster_name_of(k) for k in keys)
    return deployment_transition(
        deployment=deployment, expected=Status.DELETING, new=Status.DELETED, kind=Event.Kind.TEARDOWN,
        message=f"Removed {removed} objects from {where}",
        ready_pods=0, total_pods=0, gpus_in_use=0, url="", superseded=[],
    )
