"""Single sign-on with OpenID Connect: mozilla-django-oidc 5's backend, fed from the issuer's discovery document.

Only OIDC_ISSUER, the client id and the secret are configured: the endpoints come from
`<issuer>/.well-known/openid-configuration` (OpenID Connect Discovery 1.0, section 4), read at login and
kept for an hour, never at start-up, so the portal starts while the identity provider is down. The
account is found by issuer and subject (`sub`), never by email; who it is and what its groups grant is
decided in `services_sso.sso_user_login`.
"""

import logging
import threading
import time

import jwt
import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import SuspiciousOperation
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from .services_sso import sso_user_login

log = logging.getLogger(__name__)

DISCOVERY_TTL_SECONDS = 3600
_ENDPOINTS = ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri")
_discovered = {}  # issuer -> (monotonic time read, document)
_lock = threading.Lock()


class SsoError(Exception):
    """Single sign-on cannot go on; the message is for the person logging in."""


def sso_enabled():
    return bool(settings.OIDC_ISSUER)


def provider_discover():
    """The issuer's discovery document (its endpoints), read once an hour. Raises SsoError."""
    issuer = settings.OIDC_ISSUER
    with _lock:
        cached = _discovered.get(issuer)
    if cached and time.monotonic() - cached[0] < DISCOVERY_TTL_SECONDS:
        return cached[1]
    url = f"{issuer}/.well-known/openid-configuration"
    try:
        response = requests.get(url, timeout=settings.OIDC_TIMEOUT)
        response.raise_for_status()
        document = response.json()
    except (requests.RequestException, ValueError) as exc:
        log.warning("sso: discovery at %s failed: %s", url, exc)
        raise SsoError(f"The identity provider at {issuer} did not answer. Try again in a minute.") from exc
    # Discovery 1.0, section 4.3: the document's issuer must be exactly the one configured.
    missing = [key for key in _ENDPOINTS if not document.get(key)]
    if str(document.get("issuer", "")).rstrip("/") != issuer or missing:
        log.error("sso: %s names issuer %r and lacks %s", url, document.get("issuer"), missing)
        raise SsoError(f"The identity provider at {issuer} is not set up as Gantry expects; ask platform staff "
                       f"to check OIDC_ISSUER.")
    with _lock:
        _discovered[issuer] = (time.monotonic(), document)
    return document


def groups_from_claims(claims):
    """The user's groups: the OIDC_GROUPS_CLAIM claim, a list of names (or one name)."""
    value = claims.get(settings.OIDC_GROUPS_CLAIM)
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)):
        return [group for group in value if isinstance(group, str)]
    return []


class SsoBackend(OIDCAuthenticationBackend):
    """The library's authorization-code flow, with the endpoints discovered and the account linked by `sub`."""

    def __init__(self, *args, **kwargs):
        # Django builds a backend for every request that carries a session: read no network here. The
        # library's own __init__ insists on endpoint settings, which come from discovery instead.
        ModelBackend.__init__(self)
        self.UserModel = get_user_model()
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
        self.OIDC_RP_CLIENT_SECRET = settings.OIDC_RP_CLIENT_SECRET
        self.OIDC_RP_SIGN_ALGO = settings.OIDC_RP_SIGN_ALGO
        self.OIDC_RP_IDP_SIGN_KEY = None

    def authenticate(self, request, **kwargs):
        if request is None or not sso_enabled() or "code" not in request.GET:
            return None  # a password login, or no SSO: not this backend's
        try:
            self.provider = provider_discover()
            self.OIDC_OP_TOKEN_ENDPOINT = self.provider["token_endpoint"]
            self.OIDC_OP_USER_ENDPOINT = self.provider["userinfo_endpoint"]
            self.OIDC_OP_JWKS_ENDPOINT = self.provider["jwks_uri"]
            return super().authenticate(request, **kwargs)
        except SsoError as exc:
            request.sso_error = str(exc)
        except (requests.RequestException, jwt.PyJWTError, SuspiciousOperation) as exc:
            log.warning("sso: login refused: %s", exc)
        return None

    def verify_token(self, token, **kwargs):
        claims = super().verify_token(token, **kwargs)
        # The library checks the signature, expiry and nonce, not who issued the token nor for whom (OIDC Core
        # 1.0, section 3.1.3.7, steps 2 and 3).
        audience = claims.get("aud")
        audience = audience if isinstance(audience, list) else [audience]
        if claims.get("iss") != self.provider["issuer"] or self.OIDC_RP_CLIENT_ID not in audience:
            raise SuspiciousOperation("ID token issued by another issuer or for another client")
        return claims

    def get_userinfo(self, access_token, id_token, payload):
        """The ID token's claims and the UserInfo response together: some providers put groups in only one."""
        userinfo = super().get_userinfo(access_token, id_token, payload)
        if userinfo.get("sub") != payload.get("sub"):  # OIDC Core 1.0, section 5.3.2
            raise SuspiciousOperation("UserInfo is about another subject than the ID token")
        return {**payload, **userinfo}

    def verify_claims(self, claims):
        return bool(claims.get("sub"))

    def get_or_create_user(self, access_token, id_token, payload):
        claims = self.get_userinfo(access_token, id_token, payload)
        if not self.verify_claims(claims):
            raise SuspiciousOperation("the identity provider sent no subject (sub)")
        user = sso_user_login(issuer=self.provider["issuer"], claims=claims, groups=groups_from_claims(claims))
        if not user.is_active:
            self.request.sso_error = "Your Gantry account is deactivated. Ask platform staff to reactivate it."
        return user
