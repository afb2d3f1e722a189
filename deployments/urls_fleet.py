from django.urls import path

from .views import fleet

urlpatterns = [
    path("fleet/", fleet.fleet_page, name="fleet"),
]
