from django.contrib.auth import views as auth_views
from django.urls import include, path

from teams.views_sso import SsoCallbackView, SsoStartView

from . import views
from .login_page import LoginView
from .metrics import metrics_view

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("metrics", metrics_view, name="metrics"),
    path("login/", LoginView.as_view(), name="login"),
    # Single sign-on (404 unless OIDC_ISSUER is set); the names are mozilla-django-oidc's defaults.
    path("oidc/authenticate/", SsoStartView.as_view(), name="oidc_authentication_init"),
    path("oidc/callback/", SsoCallbackView.as_view(), name="oidc_authentication_callback"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("catalog/", views.catalog_page, name="catalog"),
    path("", include("deployments.urls_dashboard")),
    path("", include("deployments.urls_wizard")),
    path("", include("deployments.urls_fleet")),
    path("", include("teams.urls")),
    path("", include("notifications.urls")),
]
