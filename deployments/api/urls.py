from django.urls import path
from rest_framework.routers import SimpleRouter

from .logs import DeploymentLogsView
from .metrics import DeploymentMetricsView
from .preview import DeploymentPreviewView
from .rollouts import DeploymentRolloutView
from .runs import DeploymentRunsView
from .spend import TeamSpendView
from .views import DeploymentViewSet

router = SimpleRouter()
router.register("api/v1/deployments", DeploymentViewSet, basename="api-deployment")

urlpatterns = [
    path("api/v1/deployments/preview/", DeploymentPreviewView.as_view(), name="api-deployment-preview"),
    path("api/v1/deployments/<int:pk>/runs/", DeploymentRunsView.as_view(), name="api-deployment-runs"),
    path("api/v1/deployments/<int:pk>/logs/", DeploymentLogsView.as_view(), name="api-deployment-logs"),
    path("api/v1/deployments/<int:pk>/metrics/", DeploymentMetricsView.as_view(), name="api-deployment-metrics"),
    *router.urls,
    path("api/v1/deployments/<int:pk>/rollout/", DeploymentRolloutView.as_view(), name="api-deployment-rollout"),
    path("api/v1/teams/<slug:slug>/spend/", TeamSpendView.as_view(), name="api-team-spend"),
]
