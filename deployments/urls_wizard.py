from django.urls import path

from .views import wizard

urlpatterns = [
    path("new/", wizard.placeholder, name="wizard-start"),
]
