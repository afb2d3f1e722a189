"""Catalog reads: one query per table, regions prefetched."""

from django.db.models import Prefetch

from .models import GpuClass, GpuPrice, Region, RegionOffering, StorageTier


def gpu_classes_list(*, only_available=False):
    qs = GpuClass.objects.prefetch_related(
        Prefetch("offerings", queryset=RegionOffering.objects.select_related("region").order_by("region__code"))
    )
    if only_available:
        qs = qs.filter(available=True)
    return qs.order_by("price_per_gpu_hour", "name")


def regions_list():
    return Region.objects.prefetch_related(
        Prefetch("offerings", queryset=RegionOffering.objects.select_related("gpu_class").order_by("gpu_class__name"))
    ).order_by("code")


def storage_tiers_list():
    return StorageTier.objects.order_by("position")


def gpu_price_at(gpu_class_name, at):
    """Price per GPU-hour in force at `at` (the catalog price when no history row covers it)."""
    row = (
        GpuPrice.objects.filter(gpu_class__name=gpu_class_name, valid_from__lte=at)
        .order_by("-valid_from")
        .values_list("price_per_gpu_hour", flat=True)
        .first()
    )
    if row is not None:
        return row
    return GpuClass.objects.filter(name=gpu_class_name).values_list("price_per_gpu_hour", flat=True).first()
