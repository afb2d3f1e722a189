"""Which cluster serves a region: the one place that reads Cluster records for the cluster calls.

A deployment's region decides its cluster: the enabled cluster serving that region (the admin lets
only one enabled cluster serve a region; were there two, the first by name). A region no enabled
cluster serves (and every region while there are no records) goes to the default cluster, None
here, which the client reads from settings.KUBECONFIG.
"""

from catalog.cache import catalog_derived_cached

from .client import ClusterError
from .models import Cluster


def clusters_by_region():
    """{region code: ClusterRef} in one query."""
    rows = (Cluster.regions.through.objects.filter(cluster__enabled=True)
            .select_related("cluster", "region").order_by("cluster__name"))
    found = {}
    for row in rows:
        found.setdefault(row.region.code, row.cluster.ref())
    return found


def cluster_for_region(region):
    """The ClusterRef serving `region`, or None: the default cluster. Every push asks: the routes are kept with
    the catalog's version, which a change of a cluster record or of its regions replaces (catalog/signals.py)."""
    if not region:
        return None
    return catalog_derived_cached("cluster-routes", clusters_by_region).get(region)


def cluster_name(cluster):
    """How a cluster is called in messages: its record's name, or "default"."""
    return cluster.name if cluster is not None else "default"


def cluster_named(name):
    """The ClusterRef of the record called `name` (enabled or not: a disabled cluster may still hold objects to
    remove); None or "" is the default cluster. A name no record has any more raises a permanent ClusterError."""
    if not name:
        return None
    cluster = Cluster.objects.filter(name=name).first()
    if cluster is None:
        raise ClusterError(f"cluster {name} is no longer configured", permanent=True)
    return cluster.ref()
