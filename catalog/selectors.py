"""Catalog reads: one query per table, regions prefetched."""

from django.db.models import Exists, OuterRef, Prefetch
from django.utils import timezone

from .models import GpuClass, ModelFamily, Region, RegionOffering, StorageTier
from .pricebook import cpu_rate_at
from .snapshot import Catalog, CpuPrice, Family, Gpu, RegionInfo


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


def model_families_list():
    return ModelFamily.objects.order_by("name")


def cpu_rate_in_force():
    """The CPU node rate (catalog.models.CpuRate) in force now, or None when staff have set none."""
    return cpu_rate_at(timezone.now())


def region_endpoints(region):
    """Storage tier -> the endpoint its pods read from; a tier without one is left out (the Secret's is used)."""
    found = {"object": region.object_endpoint, "accelerated-object": region.accelerated_endpoint}
    return {tier: url for tier, url in found.items() if url}


def region_offerings_list():
    """Every offering with its region and class (one query), for pages that show the free GPUs."""
    return RegionOffering.objects.select_related("region", "gpu_class").order_by("region__code", "gpu_class__name")


def _draining():
    """Whether a region's cluster is draining, as a subquery on Region. The serving cluster is the enabled Cluster
    record serving the region (clusters.selectors; the admin lets one enabled cluster serve a region). Read
    through the regions relation that clusters.Cluster declares, by name: catalog sits below clusters and
    imports nothing from it."""
    served = Region.clusters.through.objects.filter(region=OuterRef("pk"), cluster__enabled=True,
                                                    cluster__draining=True)
    return Exists(served)


def catalog_snapshot():
    """The catalog as plain data (catalog.snapshot) for the pure spec code: a handful of queries, read once per
    request. GPUs free per region and class: RegionOffering.available_gpus, 0 in a draining region."""
    gpus = {
        g.name: Gpu(g.name, g.vram_gb, g.max_gpus_per_replica, g.price_per_gpu_hour, g.available)
        for g in GpuClass.objects.order_by("price_per_gpu_hour", "name")
    }
    regions = {
        r.code: RegionInfo(r.code, r.available,
                           {o.gpu_class.name: 0 if r.draining else o.available_gpus for o in r.offerings.all()},
                           region_endpoints(r), r.draining)
        for r in regions_list().annotate(draining=_draining())
    }
    tiers = {t.slug: t.read_gbps for t in storage_tiers_list()}
    families = {f.name: Family(f.name, f.layers, f.kv_heads, f.head_dim) for f in ModelFamily.objects.all()}
    rate = cpu_rate_in_force()
    cpu = CpuPrice(rate.price_per_vcpu_hour, rate.price_per_gb_hour) if rate else None
    return Catalog(gpus, regions, tiers, families, cpu)
