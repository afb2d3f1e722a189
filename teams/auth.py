"""API token authentication (`Authorization: Token <key>`) and per-token throttling."""

import logging
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from rest_framework import authentication, exceptions, throttling

from .models import ApiToken, token_hash

log = logging.getLogger(__name__)

LAST_USED_PRECISION = timedelta(minutes=1)


class TokenAuthentication(authentication.TokenAuthentication):
    keyword = "Token"

    def authenticate_credentials(self, key):
        try:
            token = ApiToken.objects.select_related("user").get(key_hash=token_hash(key), revoked_at__isnull=True)
        except ApiToken.DoesNotExist:
            raise exceptions.AuthenticationFailed("Invalid or revoked token.") from None
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at >= LAST_USED_PRECISION:
            # "Last used" to the minute: a write on every call cost the list API a tenth of its throughput.
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
            token.last_used_at = now
        return (token.user, token)


class TokenRateThrottle(throttling.SimpleRateThrottle):
    """One budget per token (per user for browser sessions); 429 with Retry-After when spent."""

    scope = "token"

    def get_rate(self):
        # Read at request time (not import time) so the setting can change without a restart.
        return getattr(settings, "API_THROTTLE_RATE", None) or super().get_rate()

    def allow_request(self, request, view):
        try:
            return super().allow_request(request, view)
        except Exception:  # noqa: BLE001 - the cache (Redis) is down: serve rather than fail every call
            log.warning("throttle cache unavailable; request allowed", exc_info=True)
            return True

    def get_cache_key(self, request, view):
        if isinstance(request.auth, ApiToken):
            # The hash, not the row id: ids repeat across test databases, Redis outlives them.
            ident = f"token-{request.auth.key_hash[:24]}"
        elif request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            ident = self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}
