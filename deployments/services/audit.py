"""The audit trail: one Event row for every change anyone makes, with who, what and (for specs) the diff.

Lifecycle transitions write their own events; these helpers are for the changes that are not
transitions (catalog prices, team limits, admin actions) so every kind of change lands in the same table.
"""

from ..models import Event

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


def event_record(*, kind, actor=None, message="", deployment=None, team=None, data=None,
                 from_status="", to_status=""):
    """Append one audit event. The team defaults to the deployment's, so team filters find it."""
    if team is None and deployment is not None:
        team = deployment.team
    return Event.objects.create(
        kind=kind,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        message=message,
        deployment=deployment,
        team=team,
        data=data or {},
        from_status=from_status,
        to_status=to_status,
    )


def admin_action_record(*, user, deployment, action, message=""):
    """Audit a staff action on a deployment (resync, re-push, tear down ...) on top of the service's own events."""
    return event_record(
        kind=Event.Kind.ADMIN,
        actor=user,
        deployment=deployment,
        message=message or f"{action} by {user.get_username()} from the admin console",
        data={"action": action},
    )
