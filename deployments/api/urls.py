from django.urls import path
from rest_framework.routers import SimpleRouter

from .preview import DeploymentPreviewView
from .spend import TeamSpendView
from .views import DeploymentViewSet

router = SimpleRouter()
router.register("api/v1/deployments", DeploymentViewSet, basename="api-deployment")

urlpatterns = [
    path("api/v1/deployments/preview/", DeploymentPreviewView.as_view(), name="api-deployment-preview"),
    *router.urls,
    path("api/v1/teams/<slug:slug>/spend/", TeamSpendView.as_view(), name="api-team-spend"),
]
