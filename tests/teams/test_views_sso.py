"""Single sign-on that cannot complete returns to the login page and says why."""

import socket

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def _closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def sso_settings(settings):
    settings.OIDC_RP_CLIENT_ID, settings.OIDC_RP_CLIENT_SECRET = "gantry", "s3cret"
    settings.AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend", "teams.sso.SsoBackend"]
    return settings


def _message(response):
    return " ".join(str(m) for m in response.context["messages"])


def test_a_provider_that_does_not_answer_is_named_on_the_login_page(sso_settings):
    sso_settings.OIDC_ISSUER = f"http://127.0.0.1:{_closed_port()}"
    response = Client().get("/oidc/authenticate/", follow=True)
    assert response.redirect_chain[-1][0] == "/login/"
    assert f"The identity provider at {sso_settings.OIDC_ISSUER} did not answer" in _message(response)


def test_a_refusal_from_the_provider_is_shown(sso_settings):
    sso_settings.OIDC_ISSUER = "https://idp.example.com"
    response = Client().get("/oidc/callback/?error=access_denied&error_description=Not+in+this+app&state=x",
                            follow=True)
    assert "The identity provider refused the login: Not in this app." in _message(response)


def test_a_callback_this_browser_never_started_logs_nobody_in(sso_settings):
    sso_settings.OIDC_ISSUER = "https://idp.example.com"
    client = Client()
    client.get("/login/")  # a session, but no login begun in it
    response = client.get("/oidc/callback/?code=stolen&state=guessed", follow=True)
    assert "Single sign-on did not complete" in _message(response)
    assert client.get("/").status_code == 302
