from django.urls import path

from . import views

urlpatterns = [
    path("api/v1/catalog/gpus/", views.GpuClassListView.as_view(), name="api-catalog-gpus"),
    path("api/v1/catalog/regions/", views.RegionListView.as_view(), name="api-catalog-regions"),
    path("api/v1/catalog/storage-tiers/", views.StorageTierListView.as_view(), name="api-catalog-storage-tiers"),
]
