"""Free GPUs per cluster, region and class, written onto the catalog's offerings for the recommender.

Every cluster that serves a region with an offering is read at once: the enabled Cluster records, and the
default cluster when it is configured (for the regions no record serves). Each read is one nodes list and one
pods list (clusters.capacity_read); each offering gets free = allocatable - requested of its class and region on
the cluster serving its region, 0 when that cluster has no such nodes. A cluster that cannot be read is logged
and skipped: its offerings keep their last report, whose age the fleet page and the admin show. Whether the
report or staff's override counts is RegionOffering.available_gpus. SQL: three queries, whatever the number of
clusters and offerings (the routes, the offerings, one bulk update).
"""

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from django.utils import timezone

import clusters
from catalog.cache import catalog_snapshot_invalidate
from catalog.models import RegionOffering
from clusters.client import default_cluster_configured
from clusters.selectors import cluster_name, clusters_by_region

log = logging.getLogger(__name__)


@dataclass
class CapacityRefresh:
    """What one refresh did: offerings written, clusters read, clusters skipped with the reason."""

    updated: int = 0
    read: list = field(default_factory=list)
    failed: dict = field(default_factory=dict)


def _read(ref):
    try:
        return clusters.capacity_read(cluster=ref), None
    except clusters.ClusterError as exc:
        return None, exc.message


def capacity_refresh(*, now=None):
    """Read every serving cluster's free GPUs and write them onto the offerings of its regions."""
    now = now or timezone.now()
    routes = clusters_by_region()  # region code -> ClusterRef of its enabled record
    offerings = list(RegionOffering.objects.select_related("region", "gpu_class").order_by("pk"))
    default = default_cluster_configured()
    serving = {}  # ClusterRef (None: the default cluster) -> its offerings
    for offering in offerings:
        code = offering.region.code
        if code in routes or default:
            serving.setdefault(routes.get(code), []).append(offering)
    refs = list(serving)
    result = CapacityRefresh()
    if not refs:
        return result
    with ThreadPoolExecutor(max_workers=min(len(refs), 8), thread_name_prefix="capacity-read") as pool:
        reports = list(pool.map(_read, refs))
    written, changed = [], False
    for ref, (report, error) in zip(refs, reports):
        name = cluster_name(ref)
        if report is None:
            log.warning("free GPUs of cluster %s not refreshed: %s", name, error)
            result.failed[name] = error
            continue
        result.read.append(name)
        for offering in serving[ref]:
            allocatable, requested = report.get((offering.gpu_class.name, offering.region.code), (0, 0))
            free = max(0, allocatable - requested)
            changed = changed or free != offering.reported_free
            offering.reported_free, offering.reported_at = free, now
            written.append(offering)
    RegionOffering.objects.bulk_update(written, ["reported_free", "reported_at"])
    if changed:  # bulk_update sends no signal; only the numbers are in the snapshot, not their time
        catalog_snapshot_invalidate()
    result.updated = len(written)
    return result
