"""API token authentication (`Authorization: Token <key>`) and per-token throttling."""

import logging
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from redis.commands.core import Script
from rest_framework import authentication, exceptions, throttling

from rows.read import row_read

from .models import ApiToken, token_hash

log = logging.getLogger(__name__)

LAST_USED_PRECISION = timedelta(minutes=1)


class TokenAuthentication(authentication.TokenAuthentication):
    keyword = "Token"

    def authenticate_credentials(self, key):
        # Every API call: plain SQL built once (rows/), where building the ORM's query took 3 ms of CPU.
        token = row_read(ApiToken, {"key_hash": token_hash(key), "revoked_at__isnull": True}, ("user",))
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked token.")
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at >= LAST_USED_PRECISION:
            # "Last used" to the minute: a write on every call cost the list API a tenth of its throughput.
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
            token.last_used_at = now
        return (token.user, token)


# A sliding window in one Redis round trip: drop the entries older than the window, count the rest, add this
# request when under the limit, else answer when the oldest entry leaves the window (Retry-After). DRF's
# SimpleRateThrottle reads and rewrites the whole pickled history instead: two round trips per API call.
# Numbers go back as strings: Redis turns a Lua number reply into an integer.
_WINDOW = Script(None, b"""
local key, now, window, limit = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
if redis.call('ZCARD', key) < limit then
  redis.call('ZADD', key, now, ARGV[4])
  redis.call('PEXPIRE', key, math.ceil(window * 1000))
  return {1, '0'}
end
local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
return {0, tostring(tonumber(oldest[2]) + window - now)}
""")


class TokenRateThrottle(throttling.SimpleRateThrottle):
    """One budget per token (per user for browser sessions); 429 with Retry-After when spent."""

    scope = "token"

    def get_rate(self):
        # Read at request time (not import time) so the setting can change without a restart.
        return getattr(settings, "API_THROTTLE_RATE", None) or super().get_rate()

    def allow_request(self, request, view):
        if self.rate is None or (key := self.get_cache_key(request, view)) is None:
            return True
        now = self.timer()
        try:
            # The cache's own Redis connection (settings.CACHES), its key prefix and version.
            client = cache._cache.get_client(write=True)
            member = f"{now!r}:{secrets.token_hex(4)}"  # unique: two requests may share a timestamp
            allowed, wait = _WINDOW(keys=[cache.make_and_validate_key(key)], client=client,
                                    args=[repr(now), self.duration, self.num_requests, member])
        except Exception:  # noqa: BLE001 - the cache (Redis) is down: serve rather than fail every call
            log.warning("throttle cache unavailable; request allowed", exc_info=True)
            return True
        self._wait = float(wait)
        return bool(allowed)

    def wait(self):
        return self._wait

    def get_cache_key(self, request, view):
        if isinstance(request.auth, ApiToken):
            # The hash, not the row id: ids repeat across test databases, Redis outlives them.
            ident = f"token-{request.auth.key_hash[:24]}"
        elif request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            ident = self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}
