"""Login with throttling: too many failures for a username or an address lock it out for a while."""

import logging

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.core.cache import cache

log = logging.getLogger(__name__)


def _keys(request):
    username = (request.POST.get("username") or "").strip().lower()[:150]
    address = request.META.get("REMOTE_ADDR", "unknown")
    return [f"login-fail:user:{username}", f"login-fail:addr:{address}"]


def _failures(keys):
    try:
        return max((cache.get(k) or 0) for k in keys)
    except Exception:  # the cache (Redis) being down must not lock everyone out
        log.warning("login throttle unavailable: cache unreachable")
        return 0


def _record_failure(keys):
    try:
        for key in keys:
            cache.add(key, 0, timeout=settings.LOGIN_LOCKOUT_SECONDS)
            cache.incr(key)
    except Exception:
        log.warning("login throttle unavailable: cache unreachable")


class ThrottledLoginView(auth_views.LoginView):
    def post(self, request, *args, **kwargs):
        keys = _keys(request)
        if _failures(keys) >= settings.LOGIN_FAILURE_LIMIT:
            minutes = max(1, settings.LOGIN_LOCKOUT_SECONDS // 60)
            form = self.get_form()
            form.errors.clear()
            context = self.get_context_data(
                form=form, locked_out=f"Too many failed attempts. Try again in about {minutes} minutes."
            )
            return self.render_to_response(context, status=429)
        response = super().post(request, *args, **kwargs)
        if response.status_code != 302:
            _record_failure(keys)
        return response
