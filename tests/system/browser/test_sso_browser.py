"""Single sign-on in a real browser against a real OpenID Connect provider (npm oidc-provider, started here).

A person clicks "Log in with single sign-on", signs in at the provider and lands in Gantry with the team
roles their groups map to; logging out ends the Gantry session; a group taken away at the provider takes
the role (and platform staff) away at the next login, while a membership staff set by hand stays.
"""

import pytest

from teams.models import Membership, Role, SsoGroupMapping
from tests.factories import MembershipFactory, TeamFactory
from tests.oidc_fixtures import STAFF_GROUP, oidc_provider, sso  # noqa: F401 (fixtures)

NO_TEAMS = "You are not a deployer or owner in any team"


def _sso_login(page, base, *, login):
    page.goto(f"{base}/login/")
    page.get_by_role("link", name="Log in with single sign-on").click()
    page.wait_for_url(lambda url: url == f"{base}/" or "/interaction/" in url)
    if page.url == f"{base}/":
        return  # the provider still had a session: straight back
    page.locator("input[name=login]").fill(login)
    page.locator("input[name=password]").fill("any password: the test provider's form takes any")
    page.get_by_role("button", name="Sign-in").click()
    page.wait_for_url(f"{base}/")


@pytest.fixture
def nlp_mapping(transactional_db):
    nlp = TeamFactory(slug="nlp")
    SsoGroupMapping.objects.create(group="ml-nlp-deployers", team=nlp, role=Role.DEPLOYER)
    return nlp


@pytest.mark.timeout(60)
def test_sso_login_applies_the_group_mapping_and_logout_ends_it(live_server, page, screenshot, sso, nlp_mapping):
    sso.accounts_set({"alice": {"email": "alice@example.com", "preferred_username": "alice",
                                "given_name": "Alice", "groups": ["ml-nlp-deployers"]}})
    page.goto(f"{live_server.url}/login/")
    screenshot("sso-login-page")

    _sso_login(page, live_server.url, login="alice")
    assert page.locator(".topbar .who").inner_text() == "alice"
    membership = Membership.objects.get(user__username="alice")
    assert (membership.team, membership.role, membership.granted_by_sso) == (nlp_mapping, Role.DEPLOYER, True)
    page.goto(f"{live_server.url}/new/")
    assert "(nlp)" in page.get_by_label("Team").inner_text()  # a deployer of nlp may deploy there
    assert page.get_by_role("link", name="Admin").count() == 0  # not in the staff group
    screenshot("sso-logged-in-wizard")

    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(f"{live_server.url}/login/")
    page.goto(f"{live_server.url}/")
    assert page.url.startswith(f"{live_server.url}/login/?next=")


@pytest.mark.timeout(60)
def test_a_group_removed_at_the_provider_loses_its_role_at_next_login(live_server, page, sso, nlp_mapping):
    vision = TeamFactory(slug="vision")
    sso.accounts_set({"bob": {"email": "bob@example.com", "preferred_username": "bob",
                              "groups": ["ml-nlp-deployers", STAFF_GROUP]}})
    _sso_login(page, live_server.url, login="bob")
    bob = Membership.objects.get(team=nlp_mapping).user
    MembershipFactory(user=bob, team=vision, role=Role.VIEWER)  # set by staff, by hand
    page.reload()
    assert page.get_by_role("link", name="Admin").is_visible()  # platform staff through the group
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(f"{live_server.url}/login/")

    sso.accounts_set({"bob": {"email": "bob@example.com", "preferred_username": "bob", "groups": []}})
    _sso_login(page, live_server.url, login="bob")
    assert page.locator(".topbar .who").inner_text() == "bob"
    assert page.get_by_role("link", name="Admin").count() == 0
    page.goto(f"{live_server.url}/new/")
    assert page.get_by_text(NO_TEAMS).is_visible()
    assert list(Membership.objects.filter(user=bob).values_list("team__slug", "role")) == [("vision", "viewer")]
