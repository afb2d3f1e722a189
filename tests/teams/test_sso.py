"""The OIDC client: endpoints discovered from the issuer only, ID tokens accepted only from it and for Gantry."""

import time

import jwt
import pytest
from django.core.exceptions import SuspiciousOperation

from teams.sso import SsoBackend, SsoError, provider_discover
from tests.oidc_fixtures import oidc_provider  # noqa: F401 (fixture)

ISSUER, CLIENT, SECRET = "https://idp.example.com", "gantry", "a-client-secret-of-32-bytes-or-more"


@pytest.mark.slow  # starts the provider (node)
@pytest.mark.timeout(60)
def test_endpoints_are_discovered_from_the_issuer(oidc_provider, settings):
    settings.OIDC_ISSUER = oidc_provider.issuer
    config = provider_discover()
    assert config["issuer"] == oidc_provider.issuer
    assert config["token_endpoint"].startswith(oidc_provider.issuer)


@pytest.mark.slow
@pytest.mark.timeout(60)
def test_a_document_naming_another_issuer_is_refused(oidc_provider, settings):
    # The same server under another name: its document names 127.0.0.1, so this is not the issuer it claims.
    settings.OIDC_ISSUER = oidc_provider.issuer.replace("127.0.0.1", "localhost")
    with pytest.raises(SsoError, match="is not set up as Gantry expects; ask platform staff to check OIDC_ISSUER"):
        provider_discover()


@pytest.fixture
def backend(settings):
    settings.OIDC_ISSUER, settings.OIDC_RP_CLIENT_ID, settings.OIDC_RP_CLIENT_SECRET = ISSUER, CLIENT, SECRET
    settings.OIDC_RP_SIGN_ALGO = "HS256"  # signed with the client secret: no key set to serve here
    backend = SsoBackend()
    backend.provider = {"issuer": ISSUER}
    return backend


def _token(**claims):
    claims = {"iss": ISSUER, "aud": CLIENT, "sub": "u-1", "nonce": "n-1", "exp": int(time.time()) + 60, **claims}
    return jwt.encode(claims, SECRET, algorithm="HS256")


def test_an_id_token_from_the_issuer_for_gantry_is_accepted(backend):
    assert backend.verify_token(_token(aud=[CLIENT, "another-api"]), nonce="n-1")["sub"] == "u-1"


@pytest.mark.parametrize("claims", [{"aud": "another-app"}, {"iss": "https://evil.example.com"}])
def test_an_id_token_for_another_client_or_from_another_issuer_is_refused(backend, claims):
    with pytest.raises(SuspiciousOperation, match="another issuer or for another client"):
        backend.verify_token(_token(**claims), nonce="n-1")
