"""Scoped reads: team members see their team's deployments, outsiders get 404, staff see all."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404

from deployments import selectors
from teams import selectors as team_selectors
from teams.models import Role
from tests.factories import DeploymentFactory


@pytest.fixture
def ours(team):
    return DeploymentFactory(team=team, name="llama-chat")


@pytest.fixture
def theirs(other_team):
    return DeploymentFactory(team=other_team, name="vit-classify")


def test_members_see_only_their_teams_deployments(ours, theirs, viewer, outsider):
    assert list(selectors.deployments_for_user(viewer)) == [ours]
    assert list(selectors.deployments_for_user(outsider)) == [theirs]


def test_outsider_gets_404_for_another_teams_deployment(ours, outsider):
    with pytest.raises(Http404):
        selectors.deployment_get_for_user(outsider, ours.pk)


def test_member_gets_their_deployment_and_garbage_ids_are_404(ours, viewer):
    assert selectors.deployment_get_for_user(viewer, ours.pk) == ours
    with pytest.raises(Http404):
        selectors.deployment_get_for_user(viewer, "not-a-number")
    with pytest.raises(Http404):
        selectors.deployment_get_for_user(AnonymousUser(), ours.pk)


def test_staff_see_every_team_and_deployment(ours, theirs, staff):
    assert set(selectors.deployments_for_user(staff)) == {ours, theirs}
    assert selectors.deployment_get_for_user(staff, theirs.pk) == theirs
    assert {t.slug for t in team_selectors.teams_for_user(staff)} == {"nlp", "vision"}


def test_roles_decide_who_may_deploy(team, owner, deployer, viewer, outsider, staff):
    assert [t.slug for t in team_selectors.teams_for_user(viewer)] == ["nlp"]
    assert team_selectors.user_role(viewer, team) == Role.VIEWER
    assert team_selectors.user_role(outsider, team) is None
    assert team_selectors.user_can_deploy(owner, team)
    assert team_selectors.user_can_deploy(deployer, team)
    assert not team_selectors.user_can_deploy(viewer, team)
    assert not team_selectors.user_can_deploy(outsider, team)
    assert team_selectors.user_can_deploy(staff, team)
