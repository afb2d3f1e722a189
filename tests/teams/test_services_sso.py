"""What a single sign-on login does to Gantry's users, team roles and staff: created once, re-applied each time."""

import pytest
from django.contrib.auth import get_user_model

from audit.models import Event
from teams.models import Membership, Role, SsoGroupMapping
from teams.services_admin import membership_set
from teams.services_sso import sso_user_login
from tests.factories import MembershipFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db
ISSUER = "https://idp.example.com"


def login(sub="u-1", groups=(), **claims):
    claims = {"sub": sub, "preferred_username": "alice", "email": "alice@example.com", **claims}
    return sso_user_login(issuer=ISSUER, claims=claims, groups=list(groups))


def roles(user):
    return dict(Membership.objects.filter(user=user).values_list("team__slug", "role"))


@pytest.fixture
def nlp():
    return TeamFactory(slug="nlp")


def test_first_login_creates_the_user_and_later_logins_find_it_by_subject():
    alice = login(given_name="Alice")
    assert (alice.username, alice.email, alice.first_name) == ("alice", "alice@example.com", "Alice")
    assert not alice.has_usable_password()  # logs in by SSO only
    again = login(email="alice@new.example.com")  # the address changed at the provider, not the person
    assert again.pk == alice.pk and again.email == "alice@new.example.com"
    assert get_user_model().objects.count() == 1
    assert Event.objects.filter(message="alice created at first single sign-on login").count() == 1


def test_a_local_account_with_the_same_name_or_email_is_never_taken_over():
    local = UserFactory(username="alice", email="alice@example.com", is_staff=True)
    user = login()
    assert user.pk != local.pk and user.username == "alice-2"
    local.refresh_from_db()
    assert local.is_staff and local.check_password("pw-for-tests-1")


def test_groups_grant_mapped_roles_and_the_highest_role_wins(nlp):
    vision = TeamFactory(slug="vision")
    SsoGroupMapping.objects.create(group="ml-nlp-deployers", team=nlp, role=Role.DEPLOYER)
    SsoGroupMapping.objects.create(group="ml-leads", team=nlp, role=Role.OWNER)
    SsoGroupMapping.objects.create(group="ml-leads", team=vision, role=Role.VIEWER)
    SsoGroupMapping.objects.create(group="finance", team=vision, role=Role.OWNER)
    user = login(groups=["ml-nlp-deployers", "ml-leads", "unmapped"])
    assert roles(user) == {"nlp": "owner", "vision": "viewer"}
    assert set(Membership.objects.filter(user=user).values_list("granted_by_sso", flat=True)) == {True}
    assert Event.objects.filter(kind=Event.Kind.TEAM, team=nlp,
                                message="Team nlp: alice is now owner (single sign-on)").exists()


def test_a_removed_group_loses_its_role_at_next_login_and_manual_memberships_stay(nlp):
    vision, ops = TeamFactory(slug="vision"), TeamFactory(slug="ops")
    SsoGroupMapping.objects.create(group="ml-nlp-deployers", team=nlp, role=Role.DEPLOYER)
    SsoGroupMapping.objects.create(group="ml-nlp-deployers", team=ops, role=Role.DEPLOYER)
    user = login(groups=["ml-nlp-deployers"])
    MembershipFactory(user=user, team=vision, role=Role.VIEWER)  # staff added this one by hand
    membership_set(user=None, team=ops, member=user, role=Role.OWNER)  # and made this one theirs
    assert roles(user) == {"nlp": "deployer", "vision": "viewer", "ops": "owner"}

    login(groups=[])
    assert roles(user) == {"vision": "viewer", "ops": "owner"}
    assert Event.objects.filter(
        team=nlp, message="Team nlp: alice removed (single sign-on: no group grants a role any more)").exists()


def test_a_changed_mapping_changes_the_role_at_next_login(nlp):
    mapping = SsoGroupMapping.objects.create(group="ml-nlp", team=nlp, role=Role.VIEWER)
    user = login(groups=["ml-nlp"])
    mapping.role = Role.DEPLOYER
    mapping.save()
    login(groups=["ml-nlp"])
    assert roles(user) == {"nlp": "deployer"}


def test_the_staff_group_grants_and_takes_back_platform_staff(settings):
    settings.OIDC_STAFF_GROUP = "gantry-platform"
    user = login(groups=["gantry-platform"])
    assert user.is_staff and user.is_superuser
    user = login(groups=["someone-else"])
    assert not user.is_staff and not user.is_superuser
    assert Event.objects.filter(message="alice is no longer platform staff (single sign-on group gantry-platform)"
                                ).exists()


def test_without_a_staff_group_staff_set_by_hand_stays(settings):
    settings.OIDC_STAFF_GROUP = ""
    user = login()
    get_user_model().objects.filter(pk=user.pk).update(is_staff=True)
    assert login(groups=[]).is_staff
