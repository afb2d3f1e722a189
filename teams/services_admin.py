"""Team changes made by platform staff (budget, quota, members), each one audited."""

from django.db import transaction

from audit.models import Event
from audit.services import event_record

from .models import Membership, Team


def _record(*, user, team, message, diff):
    return event_record(kind=Event.Kind.TEAM, actor=user, team=team, message=message, data={"diff": diff})


@transaction.atomic
def team_limits_set(*, user, team, monthly_budget_usd=None, gpu_quota=None):
    """Change a team's monthly budget and/or GPU quota. Returns the diff (empty when nothing changed)."""
    current = Team.objects.select_for_update(no_key=True).get(pk=team.pk)  # as quota.team_lock: FKs may still point here
    diff = []
    if monthly_budget_usd is not None and current.monthly_budget_usd != monthly_budget_usd:
        diff.append({"field": "monthly_budget_usd", "old": str(current.monthly_budget_usd),
                     "new": str(monthly_budget_usd)})
        current.monthly_budget_usd = monthly_budget_usd
    if gpu_quota is not None and current.gpu_quota != gpu_quota:
        diff.append({"field": "gpu_quota", "old": current.gpu_quota, "new": gpu_quota})
        current.gpu_quota = gpu_quota
    if diff:
        current.save(update_fields=["monthly_budget_usd", "gpu_quota"])
        changes = ", ".join(f"{d['field']} {d['old']} → {d['new']}" for d in diff)
        _record(user=user, team=current, message=f"Team {current.slug}: {changes}", diff=diff)
    team.monthly_budget_usd, team.gpu_quota = current.monthly_budget_usd, current.gpu_quota
    return diff


@transaction.atomic
def membership_set(*, user, team, member, role):
    """Add a member or change their role. Staff setting it makes it manual: single sign-on leaves it alone."""
    membership, created = Membership.objects.get_or_create(team=team, user=member, defaults={"role": role})
    old = None if created else membership.role
    if not created and (membership.role != role or membership.granted_by_sso):
        membership.role, membership.granted_by_sso = role, False
        membership.save(update_fields=["role", "granted_by_sso"])
    if created or old != role:
        _record(user=user, team=team, message=f"Team {team.slug}: {member.get_username()} is now {role}",
                diff=[{"field": f"members.{member.get_username()}", "old": old, "new": role}])
    return membership


@transaction.atomic
def membership_remove(*, user, membership):
    team, member, role = membership.team, membership.user, membership.role
    membership.delete()
    _record(user=user, team=team, message=f"Team {team.slug}: {member.get_username()} removed",
            diff=[{"field": f"members.{member.get_username()}", "old": role, "new": None}])
