from django.urls import path

from .views import dashboard

urlpatterns = [
    path("", dashboard.placeholder, name="dashboard"),
]
