"""GET /api/v1/catalog/...: the catalog, for any signed-in caller. Small lists, not paginated."""

from drf_spectacular.utils import extend_schema
from rest_framework.generics import ListAPIView

from catalog import selectors

from .serializers import GpuClassSerializer, RegionSerializer, StorageTierSerializer


class CatalogListView(ListAPIView):
    pagination_class = None
    selector = None

    def get_queryset(self):
        return type(self).selector()


@extend_schema(summary="GPU classes: VRAM, NVLink, InfiniBand, price per GPU-hour, regions", tags=["catalog"])
class GpuClassListView(CatalogListView):
    serializer_class = GpuClassSerializer
    selector = staticmethod(selectors.gpu_classes_list)


@extend_schema(summary="Regions and the GPU classes free in each", tags=["catalog"])
class RegionListView(CatalogListView):
    serializer_class = RegionSerializer
    selector = staticmethod(selectors.regions_list)


@extend_schema(summary="Storage tiers for model checkpoints", tags=["catalog"])
class StorageTierListView(CatalogListView):
    serializer_class = StorageTierSerializer
    selector = staticmethod(selectors.storage_tiers_list)
