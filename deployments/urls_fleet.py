from django.urls import path

from .views import fleet

urlpatterns = [
    path("fleet/", fleet.placeholder, name="fleet"),
]
