from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("portal.urls_web")),
    path("admin/", admin.site.urls),
    path("", include("deployments.api.urls")),
]
