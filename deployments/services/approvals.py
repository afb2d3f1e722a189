"""Platform staff decide on requests held for being over a team's budget or GPU quota.

Approve: pending_approval → queued for the revision staff reviewed, pushed after commit. Reject: never pushed, the reason is
stored on the deployment (the requester's page shows it) and in the event. A rejected *change*
of a deployment that already runs puts the running revision back: what is in the cluster stays.
"""

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from audit.models import Event
from catalog.selectors import catalog_snapshot
from notifications.models import EventKind
from notifications.services import notify
from specs.cost import cost_estimate
from specs.vocabulary import Status

from ..dispatch import push_dispatch
from .lifecycle import DeploymentConflict, deployment_fields_from_spec, deployment_transition


def _cost(spec):
    """The cost of a stored revision at today's prices (what the team's budget will count for it)."""
    return cost_estimate(spec, catalog=catalog_snapshot())


def _requester(deployment, number):
    """Who asked for the revision staff decided on: they hear the decision."""
    revision = deployment.revisions.select_related("created_by").filter(number=number).first()
    return revision.created_by if revision else deployment.created_by


def _staff_check(user):
    if not getattr(user, "is_staff", False):
        raise PermissionDenied("Only platform staff approve or reject requests over budget or quota.")


def deployment_approve(*, user, deployment, revision):
    """Approve the revision staff reviewed; if the requester changed it meanwhile, nothing is approved."""
    _staff_check(user)
    now = timezone.now()
    with transaction.atomic():
        moved = deployment_transition(
            deployment=deployment, expected=Status.PENDING_APPROVAL, new=Status.QUEUED, actor=user,
            kind=Event.Kind.APPROVAL, message=f"Approved revision {revision} by {user.get_username()}",
            data={"decision": "approved", "revision": revision}, where={"current_revision__number": revision},
            decided_by=user, decided_at=now, decision_reason="", status_message="",
        )
        if not moved:
            current = type(deployment).objects.filter(pk=deployment.pk).values_list(
                "status", "current_revision__number").first()
            if current and current[0] == Status.PENDING_APPROVAL:
                raise DeploymentConflict(f"It changed since you reviewed revision {revision}: revision {current[1]} "
                                         "is waiting now; review that one.")
            raise DeploymentConflict("This request is no longer waiting for approval; reload the page.")
        push_dispatch(deployment_id=deployment.pk, revision=revision)
        notify(kind=EventKind.APPROVED, team=deployment.team, deployment=deployment,
               requester=_requester(deployment, revision), data={"revision": revision},
               message=f"Revision {revision} was approved by {user.get_username()} and is queued.")
    return deployment


def deployment_reject(*, user, deployment, reason):
    _staff_check(user)
    reason = (reason or "").strip()
    if not reason:
        raise ValueError("Say why the request is rejected: the requester sees the reason.")
    now = timezone.now()
    rejected_number = deployment.current_revision.number
    data = {"decision": "rejected", "revision": rejected_number, "reason": reason}
    decision = {"decided_by": user, "decided_at": now, "decision_reason": reason, "status_message": reason}
    applied = None
    if deployment.applied_revision is not None:
        applied = deployment.revisions.filter(number=deployment.applied_revision).first()
    with transaction.atomic():
        if applied is not None:
            # A change of a live deployment: back to the revision the cluster runs; sync settles the status.
            moved = deployment_transition(
                deployment=deployment, expected=Status.PENDING_APPROVAL, new=Status.APPLYING, actor=user,
                kind=Event.Kind.APPROVAL,
                message=f"Change (revision {rejected_number}) rejected by {user.get_username()}: {reason}. "
                        f"Revision {applied.number} keeps running.",
                data=data, current_revision=applied, **deployment_fields_from_spec(applied.spec, cost=_cost(applied.spec)), **decision,
            )
        else:
            moved = deployment_transition(
                deployment=deployment, expected=Status.PENDING_APPROVAL, new=Status.REJECTED, actor=user,
                kind=Event.Kind.APPROVAL, message=f"Rejected by {user.get_username()}: {reason}",
                data=data, **decision,
            )
        if not moved:
            raise DeploymentConflict("This request is no longer waiting for approval; reload the page.")
        notify(kind=EventKind.REJECTED, team=deployment.team, deployment=deployment,
               requester=_requester(deployment, rejected_number), data={"revision": rejected_number},
               message=f"Revision {rejected_number} was rejected by {user.get_username()}: {reason}")
    return deployment
