from django.contrib.auth import views as auth_views
from django.urls import path

from catalog.views import catalog_page
from deployments.views import dashboard, fleet, wizard
from teams.views import tokens_page

from . import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", dashboard.placeholder, name="dashboard"),
    path("new/", wizard.placeholder, name="wizard-start"),
    path("fleet/", fleet.placeholder, name="fleet"),
    path("catalog/", catalog_page, name="catalog"),
    path("tokens/", tokens_page, name="tokens"),
]
