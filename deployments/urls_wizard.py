from django.urls import path

from .views import wizard

urlpatterns = [
    path("new/", wizard.wizard_start, name="wizard-start"),
    path("drafts/<int:pk>/step/<int:step>/", wizard.wizard_step, name="wizard-step"),
    path("drafts/<int:pk>/manifests.yaml", wizard.wizard_manifests, name="wizard-manifests"),
    path("drafts/<int:pk>/discard/", wizard.wizard_discard, name="wizard-discard"),
    path("deployments/<int:pk>/edit/", wizard.deployment_edit, name="deployment-edit"),
]
