"""The two single sign-on pages: the start (off to the identity provider) and the callback (back with a code).

Both are mozilla-django-oidc 5's views, answering 404 while SSO is not configured; a failure returns to the
login page with a message that says what happened.
"""

import logging

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import SuspiciousOperation
from django.http import Http404
from django.shortcuts import redirect
from django.views.generic import View
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from .sso import SsoError, provider_discover, sso_enabled

log = logging.getLogger(__name__)


class SsoStartView(OIDCAuthenticationRequestView):
    def __init__(self, **kwargs):
        # The library's __init__ reads the authorization endpoint from settings; here it is discovered in get().
        View.__init__(self, **kwargs)
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID

    def get(self, request):
        if not sso_enabled():
            raise Http404("Single sign-on is not configured")
        try:
            self.OIDC_OP_AUTH_ENDPOINT = provider_discover()["authorization_endpoint"]
        except SsoError as exc:
            messages.error(request, str(exc))
            return redirect(settings.LOGIN_URL)
        return super().get(request)


class SsoCallbackView(OIDCAuthenticationCallbackView):
    def get(self, request):
        if not sso_enabled():
            raise Http404("Single sign-on is not configured")
        try:
            return super().get(request)
        except SuspiciousOperation as exc:  # a state this browser never sent: replayed, or begun elsewhere
            log.warning("sso: callback refused: %s", exc)
            return self.login_failure()

    def login_failure(self):
        error = self.request.GET.get("error")
        reason = getattr(self.request, "sso_error", None)
        if not reason and error:
            reason = f"The identity provider refused the login: {self.request.GET.get('error_description') or error}."
        messages.error(self.request, reason or "Single sign-on did not complete. Try again; if it keeps failing, "
                                               "ask platform staff to look for 'sso:' in Gantry's log.")
        return redirect(settings.LOGIN_URL)
