"""The login page's choices: single sign-on when configured, local passwords unless LOCAL_LOGIN=0."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

SSO_BACKEND = "teams.sso.SsoBackend"


@pytest.fixture
def sso_configured(settings):
    # The page and the refusal need no provider: nothing here goes to it.
    settings.OIDC_ISSUER = "https://idp.example.com"
    settings.OIDC_RP_CLIENT_ID, settings.OIDC_RP_CLIENT_SECRET = "gantry", "s3cret"
    settings.AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend", SSO_BACKEND]


def test_with_sso_the_page_offers_it_and_keeps_passwords_for_break_glass(sso_configured):
    page = Client().get("/login/?next=/catalog/").content.decode()
    assert 'href="/oidc/authenticate/?next=/catalog/"' in page
    assert "Log in with single sign-on" in page
    assert 'name="password"' in page


def test_with_local_login_off_only_sso_is_offered_and_a_password_is_refused(sso_configured, settings, viewer):
    settings.LOCAL_LOGIN = False
    settings.AUTHENTICATION_BACKENDS = [SSO_BACKEND]
    client = Client()
    page = client.get("/login/").content.decode()
    assert "Log in with single sign-on" in page and 'name="password"' not in page

    response = client.post("/login/", {"username": "vic-viewer", "password": "pw-for-tests-1"})
    assert response.status_code == 403
    assert "Password login is switched off here (LOCAL_LOGIN=0)" in response.content.decode()
    assert client.get("/").status_code == 302  # still logged out
    # The admin console's own password form is not a way round it.
    assert client.get("/admin/login/?next=/admin/").headers["Location"] == "/login/?next=%2Fadmin%2F"
    assert client.post("/admin/login/", {"username": "vic-viewer", "password": "pw-for-tests-1"}).status_code == 302
    assert client.get("/").status_code == 302


def test_without_sso_there_is_no_sso_button_and_no_sso_pages():
    client = Client()
    assert "single sign-on" not in client.get("/login/").content.decode()
    assert client.get("/oidc/authenticate/").status_code == 404
    assert client.get("/oidc/callback/?code=x&state=y").status_code == 404
