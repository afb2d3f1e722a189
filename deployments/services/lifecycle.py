"""Deployment lifecycle commands: create, change, roll back, push again, resync and tear down.

State changes are compare-and-set (`filter(pk=, status=expected).update(...)`), allowed by the
transition table in deployments/state.py and each followed by an audit event. Work for the
workers is queued through deployments/dispatch.py once the transaction commits.
"""

import hashlib
import json
import logging
from datetime import timedelta
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from audit.models import Event
from audit.services import event_build, event_record
from notifications.models import EventKind
from notifications.services import notify
from rows.write import rows_insert
from specs.checker import Issue
from specs.preview import preview_document, spec_preview
from specs.vocabulary import Status, Target, Workload
from teams.selectors import user_can_deploy

from ..dispatch import push_dispatch, sync_dispatch, teardown_dispatch
from ..errors import DeploymentConflict, IdempotencyKeyReused, SpecInvalid
from ..models import Deployment, IdempotencyKey, Revision
from ..state import CHANGEABLE, PUSHABLE, TEARDOWN_FROM, actor_kind, transition_allowed
from .preview import spec_facts
from .quota import quota_check, spec_gpus_max
from .runs import run_record

log = logging.getLogger(__name__)

OVER_QUOTA = "over_quota"
IDEMPOTENCY_KEY_TTL = timedelta(hours=24)


def _permission_check(user, team, message):
    """user=None is the system itself (shell, admin scripts, tasks); people need a deploy role."""
    if user is not None and not user_can_deploy(user, team):
        raise PermissionDenied(message)


def transition_check(expected, new, actor=None):
    """ValueError, a programming error, for a move from one of `expected` to `new` that the transition table
    (deployments/state.py) does not allow this actor; every status change asks it before writing."""
    by = actor_kind(actor)
    refused = [s for s in expected if s != new and not transition_allowed(s, new, by=by)]
    if refused:
        raise ValueError(f"{by} may not move a deployment from {', '.join(refused)} to {new}")


def deployment_transition(*, deployment, expected, new, actor=None, message="", kind=Event.Kind.STATUS,
                          data=None, where=None, **fields):
    """Compare-and-set the status from `expected` (one status or several) to `new`, plus an audit event.

    Returns False (and writes nothing) when the status was no longer as expected, or the row no
    longer matches `where` (e.g. the revision someone reviewed). A move the transition table does
    not allow for this actor is a programming error (ValueError).
    """
    expected = (expected,) if isinstance(expected, str) else tuple(expected)
    transition_check(expected, new, actor)
    now = timezone.now()
    values = {"status": new, "updated_at": now, **fields}
    # One CAS per expected status, so the event records exactly which one we left.
    for from_status in expected:
        if Deployment.objects.filter(pk=deployment.pk, status=from_status, **(where or {})).update(**values):
            break
    else:
        return False
    for name, value in values.items():
        setattr(deployment, name, value)
    event_record(deployment=deployment, kind=kind, actor=actor, from_status=from_status, to_status=new,
                 message=message, data=data)
    return True


def as_read_or_moved_on(deployment, statuses):
    """What a user's compare-and-set may find: the status as read, then the others of `statuses` it may have
    moved to meanwhile without anyone touching what the user acts on (the worker took the push, the watcher saw
    it run). A 409 is for a change that conflicts, not for the worker being quick."""
    return (deployment.status, *(s for s in statuses if s != deployment.status))


def _validated(*, user, spec, revision, team=None):
    """(completed spec, team, manifests rendered once, cost), SpecInvalid, or PermissionDenied for a role that
    cannot deploy. `team`: a change of a deployment of that team, its permission already checked. Quota is
    decided under the lock."""
    facts = spec_facts(user, spec, team=team)
    completed, errors, warnings, extras = spec_preview(spec, catalog=facts.catalog, teams=facts.teams,
                                                       revision=revision)
    if errors:
        raise SpecInvalid(preview_document(completed, errors, warnings, extras)["errors"])
    if not facts.may_deploy:
        raise PermissionDenied("Your role in this team cannot deploy (ask an owner for the deployer role).")
    return completed, facts.team, extras["manifests"], extras["cost"]


def _over_quota_reason(*, team, spec, cost, exclude_deployment=None):
    """Decided with the team's row locked, inside the transaction that writes what it decides."""
    over = quota_check(team=team, spec=spec, cost=cost, exclude_deployment=exclude_deployment, lock=True)
    return over.message if over else ""


def _target_of(spec, target):
    if spec.get("workload") == Workload.BATCH:
        return Target.ARGO
    if target in Target.values:
        return target
    return spec.get("target") or Target.KNATIVE


def deployment_fields_from_spec(spec, target=None, *, cost):
    """The Deployment columns copied from a completed spec and its cost (for lists, filters and quotas)."""
    compute = spec.get("compute") or {}
    return {
        "gpus_max": spec_gpus_max(spec),
        "monthly_max_usd": Decimal(str((cost or {}).get("per_month_max", 0))),
        "workload": spec.get("workload", Workload.ONLINE),
        "target": _target_of(spec, target),
        "gpu_class": compute.get("gpu_class") or "",
        "region": compute.get("region") or "",
        "gpus_per_replica": int(compute.get("gpus_per_replica") or 1),
        "scheduled": bool((spec.get("batch") or {}).get("schedule")) and spec.get("workload") == Workload.BATCH,
    }


def _approval_needed_notify(deployment, number, reason):
    notify(kind=EventKind.APPROVAL_NEEDED, team=deployment.team, deployment=deployment, data={"revision": number},
           message=f"Revision {number} waits for platform staff approval: {reason}")


def _body_hash(spec):
    return hashlib.sha256(json.dumps(spec, sort_keys=True, separators=(",", ":"), default=str).encode()).hexdigest()


def _idempotent_known(user, key, body_hash):
    """The deployment created with this key in the last 24 hours; IdempotencyKeyReused for another body."""
    since = timezone.now() - IDEMPOTENCY_KEY_TTL
    known = IdempotencyKey.objects.filter(user=user, key=key, created_at__gte=since).select_related("deployment").first()
    if known is None:
        return None
    if known.body_hash and known.body_hash != body_hash:
        raise IdempotencyKeyReused(f"The Idempotency-Key {key!r} was used in the last 24 hours for a different "
                                   "spec. Send a new key for a new request, or the same body to retry.")
    return known.deployment


def deployment_create(*, user, spec, idempotency_key=None):
    """Validate, store (Deployment + Revision 1 + event) and queue the push after commit."""
    return deployment_create_once(user=user, spec=spec, idempotency_key=idempotency_key)[0]


def deployment_create_once(*, user, spec, idempotency_key=None):
    """deployment_create that says whether it created: (deployment, False) for a retry with a known key."""
    idempotency_key = idempotency_key if user is not None else None
    body_hash = _body_hash(spec) if idempotency_key else ""
    if idempotency_key and (known := _idempotent_known(user, idempotency_key, body_hash)):
        return known, False
    completed, team, manifests, cost = _validated(user=user, spec=spec, revision=1)
    try:
        with transaction.atomic():
            over_quota_reason = _over_quota_reason(team=team, spec=completed, cost=cost)
            status = Status.PENDING_APPROVAL if over_quota_reason else Status.QUEUED
            deployment = Deployment(
                team=team, name=completed["name"], status=status, created_by=user,
                approval_reason=over_quota_reason, **deployment_fields_from_spec(completed, cost=cost),
            )
            revision = Revision(number=1, spec=completed, manifests=manifests, created_by=user)
            # The deployment, its revision 1 (each naming the other) and the event: one statement, not four.
            revision.deployment, deployment.current_revision = deployment, revision
            message = "Created; waiting for platform staff approval" if over_quota_reason else "Created and queued"
            rows_insert(deployment, revision, event_build(
                deployment=deployment, team=team, kind=Event.Kind.CREATED, actor=user, from_status="",
                to_status=status, message=message, data={"revision": 1}))
            if deployment.workload == Workload.BATCH and not deployment.scheduled:
                run_record(deployment=deployment, revision=1, user=user)
            if idempotency_key:
                # A key older than 24 hours is free again.
                IdempotencyKey.objects.filter(user=user, key=idempotency_key).delete()
                IdempotencyKey.objects.create(user=user, key=idempotency_key, deployment=deployment,
                                              body_hash=body_hash)
            if status == Status.QUEUED:
                push_dispatch(deployment_id=deployment.pk, revision=1)
            else:
                _approval_needed_notify(deployment, 1, over_quota_reason)
    except IntegrityError:
        if idempotency_key and (known := _idempotent_known(user, idempotency_key, body_hash)):
            return known, False  # the same request raced itself
        raise SpecInvalid([Issue("name_taken", "name", f"Team {team.slug} already has a deployment named "
                                 f"{completed['name']!r}; pick another name or change that one.").as_dict()]) from None
    return deployment, True


def _revision_add(*, user, deployment, spec, kind, message, note=""):
    """A new revision of a deployment, re-queued (or held for approval when over quota)."""
    _permission_check(user, deployment.team, "Your role in this team cannot change deployments.")
    if deployment.status not in CHANGEABLE:
        raise DeploymentConflict(f"A deployment that is {deployment.get_status_display().lower()} cannot change.")
    # Name and team identify the objects in the cluster: they never change.
    spec = {**spec, "name": deployment.name, "team": deployment.team.slug}
    number = (deployment.revisions.aggregate(n=Max("number"))["n"] or 0) + 1
    completed, team, manifests, cost = _validated(user=user, spec=spec, revision=number, team=deployment.team)
    changed_meanwhile = DeploymentConflict("The deployment changed meanwhile; reload and try again.")
    try:
        with transaction.atomic():
            over_quota_reason = _over_quota_reason(team=team, spec=completed, cost=cost,
                                                   exclude_deployment=deployment)
            # Decided on the row as locked: a change based on a revision that is no longer current (a
            # parallel PATCH won) is refused, so revisions are numbered in order and nothing is merged
            # into a stale spec. The status may have moved on meanwhile without anyone changing the spec (the
            # worker took the push: queued -> applying -> running): the change applies to the status as locked.
            locked = Deployment.objects.select_for_update(no_key=True).filter(pk=deployment.pk).values(
                "status", "current_revision_id").first()
            latest = deployment.revisions.aggregate(n=Max("number"))["n"] or 0
            replaced = locked is None or latest + 1 != number \
                or locked["current_revision_id"] != deployment.current_revision_id
            if replaced or locked["status"] not in CHANGEABLE:  # another change won, or torn down meanwhile
                raise changed_meanwhile
            deployment.status = locked["status"]
            if deployment.status == Status.PENDING_APPROVAL and not over_quota_reason:
                # Staff were asked about another revision: a change while pending is a new request.
                over_quota_reason = "Changed while waiting for approval: platform staff approve this revision."
            new = Status.PENDING_APPROVAL if over_quota_reason else Status.QUEUED
            revision = Revision.objects.create(deployment=deployment, number=number, spec=completed,
                                               manifests=manifests, created_by=user, note=note)
            moved = deployment_transition(
                deployment=deployment, expected=deployment.status, new=new, actor=user, kind=kind,
                message=message, data={"revision": number}, current_revision=revision,
                approval_reason=over_quota_reason, status_message="",
                **deployment_fields_from_spec(completed, cost=cost),
            )
            if not moved:
                raise changed_meanwhile
            if deployment.workload == Workload.BATCH and not deployment.scheduled:
                run_record(deployment=deployment, revision=number, user=user)  # a changed run is a new run
            if new == Status.QUEUED:
                push_dispatch(deployment_id=deployment.pk, revision=number)
            else:
                _approval_needed_notify(deployment, number, over_quota_reason)
    except IntegrityError:  # another change took this revision number first
        raise changed_meanwhile from None
    return deployment


def deployment_update(*, user, deployment, spec):
    return _revision_add(user=user, deployment=deployment, spec=spec, kind=Event.Kind.CHANGED,
                         message="Spec changed")


def deployment_rollback(*, user, deployment, revision_number):
    old = deployment.revisions.filter(number=revision_number).first()
    if old is None:
        raise SpecInvalid([Issue("unknown_revision", "revision", f"Revision {revision_number} does not exist.")
                           .as_dict()])
    return _revision_add(user=user, deployment=deployment, spec=old.spec, kind=Event.Kind.ROLLBACK,
                         message=f"Rolled back to revision {revision_number}", note=f"rollback to r{revision_number}")


def deployment_teardown(*, user, deployment):
    _permission_check(user, deployment.team, "Your role in this team cannot delete deployments.")
    if deployment.status in (Status.DELETING, Status.DELETED):
        return deployment
    with transaction.atomic():
        if not deployment_transition(deployment=deployment, expected=as_read_or_moved_on(deployment, TEARDOWN_FROM),
                                     new=Status.DELETING, actor=user, kind=Event.Kind.TEARDOWN,
                                     message="Tear down requested"):
            raise DeploymentConflict("The deployment changed meanwhile; reload and try again.")
        teardown_dispatch(deployment_id=deployment.pk)
    return deployment


def deployment_repush(*, user, deployment):
    """Push the current revision again (after a failure, or to undo a change made in the cluster)."""
    _permission_check(user, deployment.team, "Your role in this team cannot push deployments.")
    if deployment.status not in PUSHABLE:
        raise DeploymentConflict(f"A deployment that is {deployment.get_status_display().lower()} cannot be pushed.")
    with transaction.atomic():
        if not deployment_transition(deployment=deployment, expected=as_read_or_moved_on(deployment, PUSHABLE),
                                     new=Status.QUEUED, actor=user, kind=Event.Kind.PUSH, message="Push requested",
                                     status_message=""):
            raise DeploymentConflict("The deployment changed meanwhile; reload and try again.")
        push_dispatch(deployment_id=deployment.pk, revision=deployment.current_revision.number)
    return deployment


def deployment_run_again(*, user, deployment):
    """Start a new run of a finished batch deployment's current revision: a new Workflow, a new Run."""
    _permission_check(user, deployment.team, "Your role in this team cannot start runs.")
    if deployment.workload != Workload.BATCH:
        raise DeploymentConflict("Only a batch deployment has runs; an online service serves until torn down.")
    if deployment.scheduled:
        raise DeploymentConflict("This deployment runs on its schedule; change or remove `batch.schedule` to run "
                                 "it at another time.")
    if deployment.status not in (Status.SUCCEEDED, Status.FAILED):
        raise DeploymentConflict(f"The deployment is {deployment.get_status_display().lower()}: start another run "
                                 "once this one has finished.")
    revision = deployment.current_revision.number
    with transaction.atomic():
        if not deployment_transition(deployment=deployment, expected=deployment.status, new=Status.QUEUED,
                                     actor=user, kind=Event.Kind.PUSH, status_message="",
                                     message=f"Run {(deployment.current_run or 0) + 1} requested"):
            raise DeploymentConflict("The deployment changed meanwhile; reload and try again.")
        run = run_record(deployment=deployment, revision=revision, user=user)
        push_dispatch(deployment_id=deployment.pk, revision=revision)
    return run


def deployment_resync(*, user=None, deployment):
    """Ask for a status sync now instead of at the next beat."""
    event_record(deployment=deployment, kind=Event.Kind.SYNC, message="Status refresh requested", actor=user)
    sync_dispatch()
    return deployment
