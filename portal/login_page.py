"""The login page's choices: single sign-on when OIDC_ISSUER is set, local passwords unless LOCAL_LOGIN=0.

Passwords stay for the demo and for break-glass staff; with LOCAL_LOGIN=0 the page offers only single
sign-on and a posted password is refused with a message (the ModelBackend is then not installed either,
so the admin's own form cannot take one).
"""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import admin
from django.shortcuts import redirect
from django.urls import reverse

from teams.sso import sso_enabled

from .login import ThrottledLoginView

PASSWORDS_OFF = "Password login is switched off here (LOCAL_LOGIN=0): use “Log in with single sign-on”."


class LoginView(ThrottledLoginView):
    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(sso_enabled=sso_enabled(), sso_only=not settings.LOCAL_LOGIN)
        return context

    def post(self, request, *args, **kwargs):
        if not settings.LOCAL_LOGIN:
            form = self.get_form_class()(request)
            return self.render_to_response(self.get_context_data(form=form, passwords_off=PASSWORDS_OFF), status=403)
        return super().post(request, *args, **kwargs)


def admin_login(request, extra_context=None):
    """With single sign-on, the admin console's login is the portal's (SSO and, if allowed, passwords)."""
    if not sso_enabled():
        return admin.site.login(request, extra_context)
    next_url = request.GET.get("next") or reverse("admin:index")
    return redirect(f"{reverse('login')}?{urlencode({'next': next_url})}")
