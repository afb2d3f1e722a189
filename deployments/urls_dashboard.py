from django.urls import path

from .views import dashboard, detail, logs, metrics, rollouts

urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("deployments/<int:pk>/", detail.deployment_detail, name="deployment-detail"),
    path("deployments/<int:pk>/manifests.yaml", detail.deployment_manifests, name="deployment-manifests"),
    path("deployments/<int:pk>/rollback/", detail.deployment_rollback, name="deployment-rollback"),
    path("deployments/<int:pk>/traffic/", rollouts.deployment_traffic_panel, name="deployment-traffic"),
    path("deployments/<int:pk>/metrics/", metrics.deployment_metrics_panel, name="deployment-metrics"),
    path("deployments/<int:pk>/logs/", logs.deployment_logs_panel, name="deployment-logs"),
    path("deployments/<int:pk>/teardown/", detail.deployment_teardown, name="deployment-teardown"),
    path("deployments/<int:pk>/runs/", detail.deployment_run_again, name="deployment-run-again"),
]
