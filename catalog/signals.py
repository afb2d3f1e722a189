"""Who invalidates the cached catalog snapshot (catalog/cache.py): a save or delete of any row it is made from.

Senders are named, not connected for every model: a post_delete receiver on a model turns off Django's fast
(bulk) deletes for it. The cluster records are named by label: catalog sits below clusters and imports nothing
from it (the snapshot reads a region's draining state through Cluster.regions, catalog/selectors.py).
Migrations change rows without these signals, so every migrate invalidates too.
"""

from django.db.models.signals import m2m_changed, post_delete, post_migrate, post_save

from .cache import catalog_snapshot_invalidate
from .models import CpuRate, GpuClass, GpuPrice, ModelFamily, Region, RegionOffering, StorageTier

SENDERS = (GpuClass, GpuPrice, Region, RegionOffering, StorageTier, ModelFamily, CpuRate, "clusters.Cluster")


def _changed(sender, using="default", **kwargs):
    catalog_snapshot_invalidate(using=using)


def receivers_connect():
    for sender in SENDERS:
        post_save.connect(_changed, sender=sender, dispatch_uid=f"catalog-cache-save-{sender}")
        post_delete.connect(_changed, sender=sender, dispatch_uid=f"catalog-cache-delete-{sender}")
    # Region.gpu_classes.add() writes offerings without post_save; which cluster serves a region (its draining
    # state counts) is Cluster.regions' automatic through model.
    for through in (RegionOffering, "clusters.Cluster_regions"):
        m2m_changed.connect(_changed, sender=through, dispatch_uid=f"catalog-cache-m2m-{through}")
    post_migrate.connect(_changed, dispatch_uid="catalog-cache-migrate")
