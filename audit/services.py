"""The audit trail: one Event row for every change anyone makes, with who, what and (for specs) the diff.

`event_record` is the one function that writes an event: lifecycle transitions, sync, reconcile,
catalog prices, team limits and admin actions all call it (sync builds many with `event_build`
and writes them in one `events_record`), so every kind of change lands in the same table.
"""

from .models import Event

# Marks a field absent on one side of a diff (None is a legitimate JSON value).
MISSING = object()


def spec_diff(old, new, *, prefix=""):
    """Field-by-field difference of two JSON documents: [{"field": "a.b", "old": x, "new": y}, ...].

    Dotted paths, sorted, so the audit log reads like a review ("scaling.max_replicas: 2 → 8").
    A field that appears or disappears has MISSING (None in JSON) on the other side.
    """
    changes = []
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new), key=str):
            path = f"{prefix}.{key}" if prefix else str(key)
            changes.extend(spec_diff(old.get(key, MISSING), new.get(key, MISSING), prefix=path))
        return changes
    if old != new:
        changes.append({
            "field": prefix or "(spec)",
            "old": None if old is MISSING else old,
            "new": None if new is MISSING else new,
        })
    return changes


def event_build(*, kind, actor=None, message="", deployment=None, team=None, data=None,
                from_status=None, to_status=None):
    """An unsaved event: the team defaults to the deployment's, the statuses to its current one."""
    status = getattr(deployment, "status", "") or ""
    return Event(
        kind=kind,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        message=message,
        deployment=deployment,
        team_id=team.pk if team is not None else getattr(deployment, "team_id", None),
        data=data or {},
        from_status=status if from_status is None else from_status,
        to_status=status if to_status is None else to_status,
    )


def event_record(**fields):
    """Append one audit event (arguments as for `event_build`)."""
    event = event_build(**fields)
    event.save()
    return event


def events_record(events):
    """Append many events built with `event_build`, in one INSERT."""
    return Event.objects.bulk_create(events)


def admin_action_record(*, user, deployment, action, message=""):
    """Audit a staff action on a deployment (resync, re-push, tear down ...) on top of the service's own events."""
    return event_record(
        kind=Event.Kind.ADMIN,
        actor=user,
        deployment=deployment,
        message=message or f"{action} by {user.get_username()} from the admin console",
        data={"action": action},
    )
