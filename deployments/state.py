"""The deployment state machine, in one place: which status may follow which and who may move it,
what an observation of the cluster means for the status, and the scale-to-zero state.

Everything here is pure (no queries, no cluster calls): the services and the sync write what
these functions decide, the dashboard, the detail page and the ledger show it.
"""

from datetime import timedelta

from django.conf import settings
from django.utils.dateparse import parse_datetime

from specs.vocabulary import Status, Target

S = Status

# States after which nothing changes on its own: live polling stops here.
FINAL_STATUSES = (S.DELETED, S.REJECTED, S.SUCCEEDED, S.FAILED, S.TEARDOWN_FAILED)
# States whose objects should exist in the cluster.
LIVE_STATUSES = (S.APPLYING, S.RUNNING, S.SCALED_TO_ZERO)
# States the status sync watches: live ones, and teardowns until the objects are gone (a failed one
# too: its pods may still run and cost money, and someone may remove them by hand).
SYNCED_STATUSES = (*LIVE_STATUSES, S.DELETING, S.TEARDOWN_FAILED)
# Deployments that hold (or are about to hold) GPUs: what the team's quota counts.
COUNTED_STATUSES = (S.QUEUED, *LIVE_STATUSES)
# Statuses from which a spec change (new revision or rollback) may start.
CHANGEABLE = (S.DRAFT, S.PENDING_APPROVAL, S.REJECTED, S.QUEUED, *LIVE_STATUSES, S.SUCCEEDED, S.FAILED)
# Statuses from which the current revision may be pushed again.
PUSHABLE = (S.QUEUED, *LIVE_STATUSES, S.FAILED)
# Statuses from which a tear down may start.
TEARDOWN_FROM = tuple(s for s in Status if s not in (S.DELETING, S.DELETED))

# Who moves a deployment: its team (deployers and owners; staff may act for any team), platform
# staff alone, or the system (workers and sync, acting on what the cluster reports).
TEAM, STAFF, SYSTEM = "team", "staff", "system"


def _rows(sources, targets, by):
    return {(a, b): by for a in sources for b in targets}


TRANSITIONS = {
    **_rows(CHANGEABLE, (S.QUEUED, S.PENDING_APPROVAL), {TEAM}),  # a new revision (change, rollback)
    **_rows(PUSHABLE, (S.QUEUED,), {TEAM}),  # push again
    **_rows(TEARDOWN_FROM, (S.DELETING,), {TEAM}),
    (S.PENDING_APPROVAL, S.QUEUED): {TEAM, STAFF},  # staff approve (a team may also edit the request)
    (S.PENDING_APPROVAL, S.REJECTED): {STAFF},
    (S.PENDING_APPROVAL, S.APPLYING): {STAFF},  # a rejected change: the applied revision keeps running
    (S.QUEUED, S.APPLYING): {SYSTEM},
    **_rows((S.QUEUED, S.APPLYING), (S.FAILED,), {SYSTEM}),  # the push gave up
    **_rows(LIVE_STATUSES, (S.RUNNING, S.SCALED_TO_ZERO, S.SUCCEEDED, S.FAILED), {SYSTEM}),  # sync
    (S.DELETING, S.DELETED): {SYSTEM},
    (S.DELETING, S.TEARDOWN_FAILED): {SYSTEM},  # the cluster refused the delete for good (e.g. 403)
    (S.TEARDOWN_FAILED, S.DELETED): {SYSTEM},  # someone removed the objects by hand
}


def actor_kind(actor):
    """SYSTEM for work without a person (tasks, shell), STAFF for platform staff, else TEAM."""
    if actor is None:
        return SYSTEM
    return STAFF if getattr(actor, "is_staff", False) else TEAM


def transition_allowed(from_status, to_status, *, by):
    """May `by` (TEAM, STAFF or SYSTEM) move a deployment from one status to the other?

    Staff may do whatever a team may; the system may do what follows from the cluster or a push.
    """
    allowed = TRANSITIONS.get((from_status, to_status), set())
    return by in allowed or (by == STAFF and TEAM in allowed)


# --- What an observation of the cluster means ------------------------------------------------


def _current_generation(obs, deployment):
    """Does the object's status describe the revision last applied (not an older one)?"""
    meta = obs.obj.get("metadata") or {}
    revision = obs.status["revision"]
    if revision is not None and deployment.applied_revision is not None and revision != str(deployment.applied_revision):
        return False
    observed = (obs.obj.get("status") or {}).get("observedGeneration")
    generation = meta.get("generation")
    return observed is None or generation is None or observed >= generation


def _at_zero(scale):
    """Knative says its routed revisions are inactive with no pods wanted or ready (clusters/scale.py)."""
    return bool(scale) and scale["active"] is False and scale["actual"] == 0 and scale["desired"] == 0


def _idle_since(obs):
    """When the traffic stopped, from the revisions' Active condition (None: active, or not known).

    Knative marks a revision inactive (Active=False, NoTraffic) once its stable window has seen no
    request, and keeps the last pod for the retention period from then; so traffic stopped one
    stable window before the condition's lastTransitionTime.
    """
    scale = obs.scale
    if not scale or scale["active"] is not False or not scale["since"] or scale["actual"] == 0:
        return None
    inactive_since = parse_datetime(scale["since"])
    if inactive_since is None:
        return None
    return inactive_since - timedelta(seconds=settings.KNATIVE_STABLE_WINDOW_SECONDS)


def _online_status(d, obs):
    """(status, message) for a Knative Service or InferenceService."""
    st = obs.status
    if st["ready"] is True and _current_generation(obs, d):
        if (obs.total_pods == 0 and st["min_scale"] in (0, None)) or _at_zero(obs.scale):
            return S.SCALED_TO_ZERO, ""
        return S.RUNNING, ""
    if st["ready"] is False and _current_generation(obs, d) and d.status == S.APPLYING:
        return S.FAILED, st["message"] or "The service did not become ready."
    if d.status == S.SCALED_TO_ZERO and obs.total_pods:
        return S.RUNNING, ""
    return d.status, st["message"] if st["ready"] is False else d.status_message


def _batch_status(d, obs):
    phase = obs.status["phase"]
    if phase == "Succeeded":
        return S.SUCCEEDED, ""
    if phase in ("Failed", "Error"):
        return S.FAILED, obs.status["message"] or f"The workflow ended in phase {phase}."
    if phase in ("Pending", "Running") and _current_generation(obs, d):
        return S.RUNNING, ""
    return d.status, d.status_message


def status_from_observation(d, obs, now, *, current_revision):
    """Write what was seen onto the (locked) deployment's fields; returns (new status, message).

    `obs` is a clusters.observe.Observation; `current_revision` the number the deployment should run.
    """
    d.ready_pods, d.total_pods, d.gpus_in_use = obs.ready_pods, obs.total_pods, obs.gpus_in_use
    d.last_synced_at = now
    if d.status in (S.DELETING, S.TEARDOWN_FAILED):
        if obs.obj is None and obs.total_pods == 0:
            return S.DELETED, "All objects removed from the cluster"
        return d.status, d.status_message
    if obs.obj is None:
        if d.target == Target.ARGO and d.status == S.RUNNING:
            # A run is never re-run behind the user's back (reconcile skips workflows): say it is lost.
            return S.FAILED, "The workflow disappeared from the cluster before it finished; deploy it again."
        return d.status, d.status_message  # not there (yet, or drifted): reconcile's business
    d.url = obs.status["url"] or d.url
    d.idle_since = _idle_since(obs) if obs.total_pods else None
    if d.target == Target.ARGO:
        if obs.status["progress"]:
            d.shards_done, d.shards_total = obs.status["progress"]
        else:
            d.shards_done = obs.succeeded_pods
        d.run_started_at = parse_datetime(obs.status["started_at"] or "") or d.run_started_at
        d.run_finished_at = parse_datetime(obs.status["finished_at"] or "") or d.run_finished_at
        # On a schedule the CronWorkflow is what runs; its latest Workflow only gives the shards and times.
        new, message = (S.RUNNING, "Runs on its schedule") if d.scheduled else _batch_status(d, obs)
    else:
        new, message = _online_status(d, obs)
    if d.applied_revision != current_revision and new in (S.RUNNING, S.SCALED_TO_ZERO):
        # The push of the current revision has not finished: what runs is an older one, and a
        # deployment whose applied revision is behind its current one is never "running".
        return d.status, d.status_message
    return new, message


# --- Scale to zero ---------------------------------------------------------------------------

ZERO, WARM, ACTIVE, ALWAYS_ON = "zero", "warm", "active", "always_on"


def scale_to_zero_state(d, *, retention_seconds, min_replicas, now):
    """(state, time left warm) for an online deployment: zero, warm, active, always_on; ("", None) otherwise.

    Knative decides to scale to zero after a stable window without requests, then keeps the last
    pod for the retention period (scale-to-zero-pod-retention-period); `idle_since` is when the
    traffic stopped, read from the Revisions' Active condition (`_idle_since`), so the warm time left
    is the retention counted from when Knative marked the revision inactive.
    """
    if d.target == Target.ARGO or d.status not in (S.RUNNING, S.SCALED_TO_ZERO):
        return "", None
    if d.status == S.SCALED_TO_ZERO or not d.total_pods:
        return ZERO, None
    if d.idle_since:
        warm = timedelta(seconds=settings.KNATIVE_STABLE_WINDOW_SECONDS + retention_seconds)
        return WARM, max(timedelta(0), d.idle_since + warm - now)
    return (ALWAYS_ON if min_replicas else ACTIVE), None
