"""Canary rollouts of an online deployment: start, change the share, promote, roll back.

The state lives on the Deployment (rollout_stable, rollout_stable_name, rollout_candidate, canary_percent)
and reaches the cluster through the ordinary push of the current revision: revision_manifests applies it
to the stored objects (specs/traffic.py), so a rollout step never creates a revision, and drift checks
compare against the same traffic. Each step is permission-checked like a change, audited, and queued
after commit.

Roll back follows KServe's meaning (canaryTrafficPercent 0): all traffic returns to the stable revision
and the candidate stays the current revision with no traffic, until the next change or a revision roll
back. The next change without a canary takes all traffic again.
"""

from django.core.exceptions import PermissionDenied
from django.db import transaction

import clusters
from audit.models import Event
from audit.services import event_record
from clusters.selectors import cluster_for_region
from clusters.traffic import serving_traffic_read
from specs.checker import Issue
from specs.vocabulary import Status, Workload
from teams.selectors import user_can_deploy

from ..dispatch import push_dispatch
from ..errors import RolloutConflict, SpecInvalid
from ..models import Deployment
from ..state import PUSHABLE
from .lifecycle import as_read_or_moved_on, deployment_transition, deployment_update

CANARY_MIN, CANARY_MAX = 1, 99
READY = (Status.RUNNING, Status.SCALED_TO_ZERO)


def rollout_in_progress(deployment):
    """A canary (or a rolled back one) of the current revision: the split is still in force."""
    current = deployment.current_revision
    return (deployment.rollout_stable is not None and current is not None
            and deployment.rollout_candidate == current.number and deployment.canary_percent < 100)


def _percent_check(value):
    if isinstance(value, bool) or not isinstance(value, int) or not CANARY_MIN <= value <= CANARY_MAX:
        raise SpecInvalid([Issue("invalid_value", "canary_percent",
                                 f"Send a whole number from {CANARY_MIN} to {CANARY_MAX}: the share of traffic the "
                                 "new revision gets (100 is a promotion, 0 a roll back).").as_dict()])
    return value


def _allowed(user, deployment):
    if user is not None and not user_can_deploy(user, deployment.team):
        raise PermissionDenied("Your role in this team cannot change deployments.")
    if deployment.workload != Workload.ONLINE:
        raise RolloutConflict("A batch deployment has no traffic to split; canary rollouts are for online "
                              "deployments.", field="workload")


def _main_ref(deployment):
    api_version, kind = clusters.TARGET_KINDS[deployment.target]
    return {"apiVersion": api_version, "kind": kind,
            "metadata": {"name": deployment.name, "namespace": deployment.namespace}}


def _stable_read(deployment, number):
    """The Knative name of revision `number`, which must be what the cluster serves now (ready)."""
    try:
        live = serving_traffic_read(_main_ref(deployment), deployment_name=deployment.name, with_pods=False,
                                    cluster=cluster_for_region(deployment.region))
    except clusters.ClusterError as exc:
        raise RolloutConflict(f"The cluster cannot tell which revision serves now ({exc.message}); try again "
                              "in a minute.", field="revision") from None
    if not live.present or live.applied_revision != number or not live.latest_ready:
        raise RolloutConflict(f"Revision {number} is not ready in the cluster yet, so traffic cannot stay on it; "
                              "wait until it runs.", field="revision")
    return live.latest_ready


def _stable_for(deployment, *, new_revision):
    """(stable number, Knative name) the rest of the traffic stays on while `new_revision` is the canary."""
    if rollout_in_progress(deployment):
        return deployment.rollout_stable, deployment.rollout_stable_name
    applied = deployment.applied_revision
    if applied is None or applied >= new_revision:
        raise RolloutConflict("There is no previous ready revision to keep traffic on: the canary needs one "
                              "revision serving and a newer one to try.", field="revision")
    if deployment.current_revision.number == applied and deployment.status not in READY:
        raise RolloutConflict(f"Revision {applied} is {deployment.get_status_display().lower()}, not serving: "
                              "start a canary once it runs.", field="revision")
    return applied, _stable_read(deployment, applied)


def _push(*, user, deployment, message, data, **fields):
    """Store the rollout fields and push the current revision again (or leave it to the approval's push)."""
    current = deployment.current_revision.number
    if deployment.status in PUSHABLE:
        moved = deployment_transition(deployment=deployment, expected=as_read_or_moved_on(deployment, PUSHABLE),
                                      new=Status.QUEUED, actor=user, kind=Event.Kind.PUSH, message=message, data=data,
                                      where={"current_revision_id": deployment.current_revision_id},
                                      status_message="", **fields)
        if not moved:
            raise RolloutConflict("The deployment changed meanwhile; reload and try again.")
        push_dispatch(deployment_id=deployment.pk, revision=current)
        return deployment
    if deployment.status != Status.PENDING_APPROVAL:
        raise RolloutConflict(f"A deployment that is {deployment.get_status_display().lower()} cannot change "
                              "its traffic.", field="status")
    # Waiting for staff: the push that follows the approval carries the rollout.
    if not Deployment.objects.filter(pk=deployment.pk, status=deployment.status,
                                     current_revision_id=deployment.current_revision_id).update(**fields):
        raise RolloutConflict("The deployment changed meanwhile; reload and try again.")
    for name, value in fields.items():
        setattr(deployment, name, value)
    event_record(deployment=deployment, kind=Event.Kind.PUSH, actor=user, message=message, data=data)
    return deployment


def rollout_start(*, user, deployment, spec, canary_percent):
    """Change the spec and send the new revision `canary_percent` % of the traffic; the rest stays."""
    _allowed(user, deployment)
    _percent_check(canary_percent)
    if (spec.get("target") or deployment.target) != deployment.target:
        raise RolloutConflict("A canary keeps the target: change the target without one.", field="target")
    number = deployment.revisions.order_by("-number").values_list("number", flat=True).first() + 1
    stable, name = _stable_for(deployment, new_revision=number)
    with transaction.atomic():
        # The rollout fields first: the push queued by the change (after commit) renders with them.
        Deployment.objects.filter(pk=deployment.pk).update(
            rollout_stable=stable, rollout_stable_name=name, rollout_candidate=number, canary_percent=canary_percent)
        deployment.rollout_stable, deployment.rollout_stable_name = stable, name
        deployment.rollout_candidate, deployment.canary_percent = number, canary_percent
        deployment_update(user=user, deployment=deployment, spec=spec)
        if deployment.current_revision.number != number:
            raise RolloutConflict("The deployment changed meanwhile; reload and try again.")
        event_record(deployment=deployment, kind=Event.Kind.CHANGED, actor=user,
                     message=f"Canary: revision {number} gets {canary_percent} %, revision {stable} the rest",
                     data={"revision": number, "stable": stable, "canary_percent": canary_percent})
    return deployment


def rollout_set(*, user, deployment, canary_percent):
    """Set the canary share of the current revision: change a canary in progress, or start one for a
    revision that is not out yet (queued or waiting for approval) while the previous one still serves."""
    _allowed(user, deployment)
    _percent_check(canary_percent)
    current = deployment.current_revision
    if current is None:
        raise RolloutConflict("The deployment has no revision yet.", field="revision")
    if not rollout_in_progress(deployment) and deployment.applied_revision == current.number:
        raise RolloutConflict(f"Revision {current.number} already takes all the traffic; send a change with a "
                              "canary share to try the next one on part of it.", field="revision")
    stable, name = _stable_for(deployment, new_revision=current.number)
    return _push(user=user, deployment=deployment,
                 message=f"Canary: revision {current.number} gets {canary_percent} %, revision {stable} the rest",
                 data={"revision": current.number, "stable": stable, "canary_percent": canary_percent},
                 rollout_stable=stable, rollout_stable_name=name, rollout_candidate=current.number,
                 canary_percent=canary_percent)


def _in_progress_check(deployment):
    if not rollout_in_progress(deployment):
        raise RolloutConflict("No canary is in progress for the current revision.", field="rollout")


def rollout_promote(*, user, deployment):
    """All traffic to the canary: it becomes the stable revision."""
    _allowed(user, deployment)
    _in_progress_check(deployment)
    number = deployment.current_revision.number
    return _push(user=user, deployment=deployment, message=f"Canary promoted: revision {number} takes all traffic",
                 data={"revision": number, "canary_percent": 100},
                 rollout_stable=number, rollout_stable_name="", canary_percent=100)


def rollout_rollback(*, user, deployment):
    """All traffic back to the stable revision; the canary keeps none."""
    _allowed(user, deployment)
    _in_progress_check(deployment)
    if deployment.canary_percent == 0:
        return deployment
    stable = deployment.rollout_stable
    return _push(user=user, deployment=deployment,
                 message=f"Canary rolled back: revision {stable} takes all traffic again",
                 data={"revision": deployment.current_revision.number, "stable": stable, "canary_percent": 0},
                 canary_percent=0)
