from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from . import health
from .api_docs import ApiDocsView
from .login_page import admin_login

urlpatterns = [
    # The kubelet's probes (k8s/base) and docker-compose's healthchecks; /healthz is in urls_web.
    path("livez", health.livez, name="livez"),
    path("readyz", health.readyz, name="readyz"),
    path("", include("portal.urls_web")),
    path("admin/login/", admin_login),  # before the admin's own: with SSO it sends people to the portal's login
    path("admin/", admin.site.urls),
    path("", include("deployments.api.urls")),
    path("", include("catalog.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", ApiDocsView.as_view(url_name="api-schema"), name="api-docs"),
]

handler404 = "portal.api_errors.api_not_found"
handler500 = "portal.api_errors.api_server_error"
