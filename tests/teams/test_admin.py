"""Raising a team's budget or quota, and changing members, in the console: every change audited."""

from decimal import Decimal

from django.urls import reverse

from audit.models import Event
from teams.models import Membership, Role
from tests.admin_helpers import change_form_data
from tests.factories import UserFactory


def test_budget_and_quota_changes_are_audited(login, staff, team, owner):
    client = login(staff)
    url = reverse("admin:teams_team_change", args=[team.pk])
    page = client.get(url)
    response = client.post(url, change_form_data(page, monthly_budget_usd="250000.00", gpu_quota="96",
                                                 _save="Save"))
    assert response.status_code == 302
    team.refresh_from_db()
    assert (team.monthly_budget_usd, team.gpu_quota) == (Decimal("250000.00"), 96)
    event = Event.objects.get(kind=Event.Kind.TEAM)
    assert event.actor == staff and event.team == team
    assert {d["field"]: (d["old"], d["new"]) for d in event.data["diff"]} == {
        "monthly_budget_usd": ("100000.00", "250000.00"), "gpu_quota": (64, 96)}


def test_adding_and_changing_members_is_audited(login, staff, team, owner):
    newcomer = UserFactory(username="nina-new")
    client = login(staff)
    url = reverse("admin:teams_team_change", args=[team.pk])
    page = client.get(url)
    data = change_form_data(page, _save="Save")
    data["memberships-0-role"] = Role.VIEWER  # the owner becomes a viewer
    data["memberships-1-user"] = str(newcomer.pk)
    data["memberships-1-role"] = Role.DEPLOYER
    assert client.post(url, data).status_code == 302
    assert Membership.objects.get(team=team, user=owner).role == Role.VIEWER
    assert Membership.objects.get(team=team, user=newcomer).role == Role.DEPLOYER
    messages = set(Event.objects.filter(kind=Event.Kind.TEAM, actor=staff).values_list("message", flat=True))
    assert messages == {"Team nlp: olivia-owner is now viewer", "Team nlp: nina-new is now deployer"}
