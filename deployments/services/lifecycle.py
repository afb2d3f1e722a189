"""Deployment lifecycle: every write and state change, from create to teardown.

State changes are compare-and-set (`filter(pk=, status=expected).update(...)`),
each followed by an Event row, which is the history and the audit trail at once.
Work for the workers is queued only after the transaction commits; if the
broker is down the request still succeeds and the reconcile task pushes later.
"""

import logging
from functools import partial

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from teams.models import Team

from .. import cluster
from ..models import Deployment, Event, IdempotencyKey, Revision, Status, Target, Workload
from ..selectors import user_can_deploy

log = logging.getLogger(__name__)

OVER_QUOTA = "over_quota"
# Statuses from which a spec change, re-push or teardown may start.
CHANGEABLE = (
    Status.DRAFT, Status.PENDING_APPROVAL, Status.REJECTED, Status.QUEUED, Status.APPLYING,
    Status.RUNNING, Status.SCALED_TO_ZERO, Status.SUCCEEDED, Status.FAILED,
)


class SpecInvalid(Exception):
    """The spec has blocking errors: a list of {code, field, message} dicts."""

    def __init__(self, errors):
        super().__init__("; ".join(e.get("message", "") for e in errors))
        self.errors = errors


class DeploymentConflict(Exception):
    """Someone else changed the deployment's status first; reload and try again."""


def _permission_check(user, team, message):
    """user=None is the system itself (shell, admin scripts, tasks); people need a deploy role."""
    if user is not None and not user_can_deploy(user, team):
        raise PermissionDenied(message)


def _error(code, field, message):
    return {"code": code, "field": field, "message": message}


def deployment_transition(*, deployment, expected, new, actor=None, message="", kind=Event.Kind.STATUS,
                          data=None, **fields):
    """Compare-and-set the status from `expected` (one status or several) to `new`, plus an Event row.

    Returns False (and writes nothing) when the status was no longer as expected.
    """
    expected = (expected,) if isinstance(expected, str) else tuple(expected)
    now = timezone.now()
    values = {"status": new, "updated_at": now, **fields}
    # One CAS per expected status, so the event records exactly which one we left.
    for from_status in expected:
        if Deployment.objects.filter(pk=deployment.pk, status=from_status).update(**values):
            break
    else:
        return False
    for name, value in values.items():
        setattr(deployment, name, value)
    Event.objects.create(
        deployment=deployment, team_id=deployment.team_id, kind=kind, actor=actor,
        from_status=from_status, to_status=new, message=message, data=data or {},
    )
    return True


def _event_add(deployment, kind, message, *, actor=None, data=None):
    return Event.objects.create(
        deployment=deployment, team_id=deployment.team_id, kind=kind, actor=actor,
        from_status=deployment.status, to_status=deployment.status, message=message, data=data or {},
    )


def _enqueue(task_name, *args):
    """Publish a task; a broker outage is logged, not raised (reconcile picks the work up later)."""
    from .. import tasks

    try:
        getattr(tasks, task_name).delay(*args)
    except Exception as exc:  # kombu raises several types when Redis is unreachable
        log.warning("could not queue %s%r (%s); the reconcile task will retry", task_name, args, exc)


def task_enqueue_on_commit(task_name, *args):
    """Queue a task once the surrounding transaction commits, so the worker sees the rows."""
    transaction.on_commit(partial(_enqueue, task_name, *args))


def _manifests_render(spec, number):
    from ..manifests import manifests_render

    return manifests_render(spec, revision=number)


def _validate(*, user, spec, deployment=None):
    """(completed spec, target, over-quota reason or "") or SpecInvalid."""
    from .preview import deployment_preview

    preview = deployment_preview(spec=spec, user=user)
    errors = list(preview.get("errors") or [])
    blocking = [e for e in errors if e.get("code") != OVER_QUOTA]
    if blocking:
        raise SpecInvalid(blocking)
    over = [e for e in errors if e.get("code") == OVER_QUOTA]
    completed = preview["spec"]
    if over and deployment is not None:
        # The preview counts the deployment's own current usage; recheck without it.
        from ..quota import quota_check

        team = deployment.team
        issue = quota_check(team=team, spec=completed, cost=preview.get("cost"), exclude_deployment=deployment)
        over = [issue.as_dict()] if issue is not None else []
    reason = " ".join(e.get("message", "") for e in over)
    return completed, preview.get("target"), reason


def _target_of(spec, target):
    if spec.get("workload") == Workload.BATCH:
        return Target.ARGO
    if target in Target.values:
        return target
    return spec.get("target") or Target.KNATIVE


def deployment_fields_from_spec(spec, target):
    """The Deployment columns copied from a completed spec (for lists and filters)."""
    compute = spec.get("compute") or {}
    return {
        "workload": spec.get("workload", Workload.ONLINE),
        "target": _target_of(spec, target),
        "gpu_class": compute.get("gpu_class") or "",
        "region": compute.get("region") or "",
        "gpus_per_replica": int(compute.get("gpus_per_replica") or 1),
    }


def deployment_create(*, user, spec, idempotency_key=None):
    """Validate, store (Deployment + Revision 1 + Event) and queue the push after commit."""
    idempotency_key = idempotency_key if user is not None else None
    if idempotency_key:
        known = IdempotencyKey.objects.filter(user=user, key=idempotency_key).select_related("deployment").first()
        if known:
            return known.deployment
    completed, target, over_quota_reason = _validate(user=user, spec=spec)
    team = Team.objects.get(slug=completed["team"])
    _permission_check(user, team, "Your role in this team cannot deploy (ask an owner for the deployer role).")
    status = Status.PENDING_APPROVAL if over_quota_reason else Status.QUEUED
    manifests = _manifests_render(completed, 1)
    try:
        with transaction.atomic():
            deployment = Deployment.objects.create(
                team=team, name=completed["name"], status=status, created_by=user,
                approval_reason=over_quota_reason, **deployment_fields_from_spec(completed, target),
            )
            revision = Revision.objects.create(
                deployment=deployment, number=1, spec=completed, manifests=manifests, created_by=user
            )
            deployment.current_revision = revision
            deployment.save(update_fields=["current_revision"])
            message = "Created; waiting for platform staff approval" if over_quota_reason else "Created and queued"
            Event.objects.create(
                deployment=deployment, team=team, kind=Event.Kind.CREATED, actor=user,
                to_status=status, message=message, data={"revision": 1},
            )
            if idempotency_key:
                IdempotencyKey.objects.create(user=user, key=idempotency_key, deployment=deployment)
            if status == Status.QUEUED:
                task_enqueue_on_commit("push_deployment", deployment.pk, 1)
    except IntegrityError:
        if idempotency_key:
            known = IdempotencyKey.objects.filter(user=user, key=idempotency_key).select_related("deployment").first()
            if known:  # the same request raced itself
                return known.deployment
        raise SpecInvalid([_error("name_taken", "name", f"Team {team.slug} already has a deployment named "
                                  f"{completed['name']!r}; pick another name or change that one.")]) from None
    return deployment


def _revision_add(*, user, deployment, spec, kind, message, note=""):
    """A new revision of a deployment, re-queued (or held for approval when over quota)."""
    _permission_check(user, deployment.team, "Your role in this team cannot change deployments.")
    if deployment.status not in CHANGEABLE:
        raise DeploymentConflict(f"A deployment that is {deployment.get_status_display().lower()} cannot change.")
    # Name and team identify the objects in the cluster: they never change.
    spec = {**spec, "name": deployment.name, "team": deployment.team.slug}
    completed, target, over_quota_reason = _validate(user=user, spec=spec, deployment=deployment)
    with transaction.atomic():
        number = (deployment.revisions.aggregate(n=Max("number"))["n"] or 0) + 1
        revision = Revision.objects.create(
            deployment=deployment, number=number, spec=completed,
            manifests=_manifests_render(completed, number), created_by=user, note=note,
        )
        new = Status.PENDING_APPROVAL if over_quota_reason else Status.QUEUED
        moved = deployment_transition(
            deployment=deployment, expected=deployment.status, new=new, actor=user, kind=kind,
            message=message, data={"revision": number}, current_revision=revision,
            approval_reason=over_quota_reason, status_message="", **deployment_fields_from_spec(completed, target),
        )
        if not moved:
            raise DeploymentConflict("The deployment changed meanwhile; reload and try again.")
        if new == Status.QUEUED:
            task_enqueue_on_commit("push_deployment", deployment.pk, number)
    return deployment


def deployment_update(*, user, deployment, spec):
    return _revision_add(user=user, deployment=deployment, spec=spec, kind=Event.Kind.CHANGED,
                         message="Spec changed")


def deployment_rollback(*, user, deployment, revision_number):
    old = deployment.revisions.filter(number=revision_number).first()
    if old is None:
        raise SpecInvalid([_error("unknown_revision", "revision", f"Revision {revision_number} does not exist.")])
    return _revision_add(user=user, deployment=deployment, spec=old.spec, kind=Event.Kind.ROLLBACK,
                         message=f"Rolled back to revision {revision_number}", note=f"rollback to r{revision_number}")


def deployment_teardown(*, user, deployment):
    _permission_check(user, deployment.team, "Your role in this team cannot delete deployments.")
    if deployment.status in (Status.DELETING, Status.DELETED):
        return deployment
    with transaction.atomic():
        if not deployment_transition(deployment=deployment, expected=deployment.status, new=Status.DELETING,
                                     actor=user, kind=Event.Kind.TEARDOWN, message="Tear down requested"):
            raise DeploymentConflict("The deployment changed meanwhile; reload and try again.")
        task_enqueue_on_commit("teardown_deployment", deployment.pk)
    return deployment


def deployment_repush(*, user, deployment):
    """Push the current revision again (after a failure, or to undo a change made in the cluster)."""
    _permission_check(user, deployment.team, "Your role in this team cannot push deployments.")
    allowed = (Status.QUEUED, Status.APPLYING, Status.RUNNING, Status.SCALED_TO_ZERO, Status.FAILED)
    if deployment.status not in allowed:
        raise DeploymentConflict(f"A deployment that is {deployment.get_status_display().lower()} cannot be pushed.")
    with transaction.atomic():
        if not deployment_transition(deployment=deployment, expected=deployment.status, new=Status.QUEUED,
                                     actor=user, kind=Event.Kind.PUSH, message="Push requested",
                                     status_message=""):
            raise DeploymentConflict("The deployment changed meanwhile; reload and try again.")
        task_enqueue_on_commit("push_deployment", deployment.pk, deployment.current_revision.number)
    return deployment


def deployment_resync(*, user=None, deployment):
    """Ask for a status sync now instead of at the next beat."""
    _event_add(deployment, Event.Kind.SYNC, "Status refresh requested", actor=user)
    task_enqueue_on_commit("sync_status")
    return deployment


def _with_namespace(objects, namespace):
    out = []
    for obj in objects:
        meta = dict(obj.get("metadata") or {})
        if obj.get("kind") != "Namespace" and not meta.get("namespace"):
            meta["namespace"] = namespace
        out.append({**obj, "metadata": meta})
    return out


def revision_manifests(deployment, revision):
    """The objects of a revision, rendered now if the stored copy is empty."""
    manifests = revision.manifests or _manifests_render(revision.spec, revision.number)
    return _with_namespace(manifests, deployment.namespace)


def deployment_push(*, deployment_id, revision):
    """Apply a revision to the cluster (called by the push task). ClusterError propagates to the task.

    Returns False when there was nothing to do: the deployment moved on (newer revision,
    torn down, already applied) before this message was handled.
    """
    deployment = Deployment.objects.select_related("team", "current_revision").filter(pk=deployment_id).first()
    if deployment is None or deployment.current_revision is None:
        return False
    if revision < deployment.current_revision.number:
        log.info("push of %s r%s skipped: superseded by r%s", deployment, revision, deployment.current_revision.number)
        return False
    if deployment.status not in (Status.QUEUED, Status.APPLYING):
        log.info("push of %s r%s skipped: deployment is %s", deployment, revision, deployment.status)
        return False
    rev = deployment.revisions.get(number=revision)
    if deployment.status == Status.QUEUED:
        deployment_transition(deployment=deployment, expected=Status.QUEUED, new=Status.APPLYING,
                              message=f"Applying revision {revision}")
    Deployment.objects.filter(pk=deployment.pk).update(
        push_attempts=deployment.push_attempts + 1, last_pushed_at=timezone.now()
    )
    objects = revision_manifests(deployment, rev)
    cluster.namespace_ensure(deployment.namespace, {cluster.TEAM_LABEL: deployment.team.slug})
    cluster.objects_apply(objects)
    Deployment.objects.filter(pk=deployment.pk).update(applied_revision=revision, status_message="",
                                                       updated_at=timezone.now())
    _event_add(deployment, Event.Kind.PUSH, f"Applied revision {revision} ({len(objects)} objects)",
               data={"revision": revision, "objects": [cluster.object_describe(o) for o in objects]})
    return True


def deployment_push_failed(*, deployment_id, revision, message):
    """A push gave up: the deployment is failed with a message the user can act on."""
    deployment = Deployment.objects.filter(pk=deployment_id).select_related("current_revision").first()
    if deployment is None or (deployment.current_revision and revision < deployment.current_revision.number):
        return False
    return deployment_transition(
        deployment=deployment, expected=(Status.APPLYING, Status.QUEUED), new=Status.FAILED,
        message=f"Push of revision {revision} failed: {message}", status_message=message,
        data={"revision": revision},
    )


def deployment_objects(deployment):
    """Every object any revision rendered (a target change leaves the old kind behind), de-duplicated."""
    seen, objects = set(), []
    for rev in deployment.revisions.order_by("-number"):
        for obj in revision_manifests(deployment, rev):
            meta = obj["metadata"]
            key = (obj.get("apiVersion"), obj.get("kind"), meta.get("namespace"), meta.get("name"))
            if key not in seen:
                seen.add(key)
                objects.append(obj)
    return objects


def deployment_teardown_run(*, deployment_id):
    """Delete the deployment's objects (foreground); deleted once they are all gone, else sync finishes it."""
    deployment = Deployment.objects.select_related("team").filter(pk=deployment_id).first()
    if deployment is None or deployment.status != Status.DELETING:
        return False
    objects = deployment_objects(deployment)
    cluster.objects_delete(objects, propagation="Foreground")
    remaining = [obj for obj in objects if cluster.object_get(obj) is not None]
    if remaining:
        return False
    return deployment_transition(
        deployment=deployment, expected=Status.DELETING, new=Status.DELETED, kind=Event.Kind.TEARDOWN,
        message=f"Removed {len(objects)} objects from the cluster",
        ready_pods=0, total_pods=0, gpus_in_use=0, url="",
    )
