"""Login with throttling: too many failed attempts for a username or a client address lock it out a while.

Each attempt is counted before the password is tried (an atomic increment in Redis), so parallel
guesses cannot all slip under the limit; a success takes its own attempt back. Usernames are
compared as Django normalises them (NFKC) and case-insensitively, so a full-width letter names the
same account. The client address is REMOTE_ADDR unless that is one of TRUSTED_PROXIES (the
ingress), then the right-most X-Forwarded-For address that is not a trusted proxy: otherwise
everyone behind the ingress shares one address and anyone could lock everyone out.
"""

import ipaddress
import logging
import unicodedata

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.core.cache import cache

log = logging.getLogger(__name__)


def _trusted(address):
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in settings.TRUSTED_PROXIES)


def client_address(request):
    remote = request.META.get("REMOTE_ADDR") or "unknown"
    if not _trusted(remote):
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    for address in reversed(forwarded):
        if not _trusted(address):
            return address
    return remote


def _keys(request):
    username = unicodedata.normalize("NFKC", request.POST.get("username") or "").strip().casefold()[:150]
    return [f"login-fail:user:{username}", f"login-fail:addr:{client_address(request)}"]


def _attempt_allowed(keys):
    """Count this attempt on every key at once; allowed while no key is past the limit."""
    try:
        counts = []
        for key in keys:
            cache.add(key, 0, timeout=settings.LOGIN_LOCKOUT_SECONDS)
            counts.append(cache.incr(key))
        return max(counts) <= settings.LOGIN_FAILURE_LIMIT
    except Exception:  # the cache (Redis) being down must not lock everyone out
        log.warning("login throttle unavailable: cache unreachable")
        return True


def _attempt_succeeded(keys):
    try:
        user_key, address_key = keys
        cache.delete(user_key)
        cache.decr(address_key)
    except Exception:
        log.warning("login throttle unavailable: cache unreachable")


class ThrottledLoginView(auth_views.LoginView):
    def post(self, request, *args, **kwargs):
        keys = _keys(request)
        if not _attempt_allowed(keys):
            minutes = max(1, settings.LOGIN_LOCKOUT_SECONDS // 60)
            form = self.get_form()
            form.errors.clear()
            context = self.get_context_data(
                form=form, locked_out=f"Too many failed attempts. Try again in about {minutes} minutes."
            )
            return self.render_to_response(context, status=429)
        response = super().post(request, *args, **kwargs)
        if response.status_code == 302:
            _attempt_succeeded(keys)
        return response
