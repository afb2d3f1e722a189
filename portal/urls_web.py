from django.contrib.auth import views as auth_views
from django.urls import include, path

from . import views
from .metrics import metrics_view
from .login import ThrottledLoginView

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("metrics", metrics_view, name="metrics"),
    path("login/", ThrottledLoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("catalog/", views.catalog_page, name="catalog"),
    path("", include("deployments.urls_dashboard")),
    path("", include("deployments.urls_wizard")),
    path("", include("deployments.urls_fleet")),
    path("", include("teams.urls")),
    path("", include("notifications.urls")),
]
