"""Reads for the platform staff's fleet overview: the whole cloud at once, a handful of queries.

Staff only: the view checks is_staff before calling these (they are not scoped to a user).
"""

from datetime import timedelta

from django.db.models import Count, DecimalField, Max, Q, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from audit.models import Event
from catalog.models import Region
from catalog.selectors import region_offerings_list
from clusters.client import default_cluster_configured
from clusters.models import Cluster
from clusters.probe import Probe, clusters_probe
from specs.vocabulary import Status
from teams.models import Team

from .models import Deployment
from .state import LIVE_STATUSES, SYNCED_STATUSES

# The default cluster (settings.KUBECONFIG or the in-cluster service account) on the fleet page.
DEFAULT_CLUSTER_NAME = "default (KUBECONFIG)"

# How far back the "recent drift" list looks in the event log.
DRIFT_WINDOW = timedelta(days=7)


def gpus_in_use_by_class_and_region(offerings=None):
    """[{gpu_class, region, gpus, deployments, free, free_source}] for everything live, busiest first. `free`:
    RegionOffering.available_gpus (None: not offered), `free_source` where it comes from. `offerings`: the
    region_offerings_list() the caller already read."""
    rows = (
        Deployment.objects.filter(status__in=LIVE_STATUSES)
        .values("gpu_class", "region")
        .annotate(gpus=Sum("gpus_in_use"), deployments=Count("id"))
        .order_by("-gpus", "gpu_class", "region")
    )
    offered = {(o.gpu_class.name, o.region.code): o
               for o in (region_offerings_list() if offerings is None else offerings)}
    found = [(r, offered.get((r["gpu_class"], r["region"]))) for r in rows]
    return [{**r, "free": o.available_gpus if o else None, "free_source": o.available_source if o else None}
            for r, o in found]


def _gpus_free(offerings):
    """{region code: [{gpu_class, region, free, source, reported, reported_at}]} by class name."""
    by_region = {}
    for o in offerings:
        by_region.setdefault(o.region.code, []).append({
            "gpu_class": o.gpu_class.name, "region": o.region.code, "free": o.available_gpus,
            "source": o.available_source, "reported": o.reported_free, "reported_at": o.reported_at})
    return by_region


def month_start(today=None):
    today = today or timezone.localdate()
    return today.replace(day=1)


def spend_by_team_this_month(*, today=None):
    """Every team with its spend since the 1st (DailySpend rollups) against its budget, biggest first."""
    start = month_start(today)
    zero = Value(0, output_field=DecimalField(max_digits=14, decimal_places=6))
    teams = Team.objects.annotate(
        spend=Coalesce(Sum("daily_spend__cost_usd", filter=Q(daily_spend__day__gte=start)), zero),
        gpu_hours=Coalesce(Sum("daily_spend__gpu_hours", filter=Q(daily_spend__day__gte=start)), zero),
    ).order_by("-spend", "slug")
    rows = []
    for t in teams:
        budget = t.monthly_budget_usd or 0
        percent = int(t.spend * 100 / budget) if budget else None
        rows.append({"team": t, "spend": t.spend, "gpu_hours": t.gpu_hours, "budget": budget, "percent": percent})
    return rows


def failing_deployments(*, limit=50):
    return (
        Deployment.objects.filter(status=Status.FAILED)
        .select_related("team")
        .order_by("-updated_at")[:limit]
    )


def drifted_deployments(*, limit=50):
    """Deployments whose cluster objects were changed outside Gantry, most recent first."""
    return (
        Deployment.objects.filter(drift_detected_at__isnull=False)
        .exclude(status=Status.DELETED)
        .select_related("team")
        .order_by("-drift_detected_at")[:limit]
    )


def drift_events_recent(*, limit=20):
    since = timezone.now() - DRIFT_WINDOW
    return (
        Event.objects.filter(kind=Event.Kind.DRIFT, created_at__gte=since)
        .select_related("deployment__team")
        .order_by("-created_at")[:limit]
    )


def pending_approvals():
    return Deployment.objects.filter(status=Status.PENDING_APPROVAL).select_related("team", "created_by")


def clusters_overview(offerings=None):
    """One row per cluster: the Cluster records, then the default cluster when it is configured, serves a
    deployment, or there are no records. Each with a bounded /version probe (all clusters at once), the
    regions it serves, its deployments by region (those the sync watches, counted where they are routed
    now: a disabled cluster's regions go to the default one), the newest sync among them, and the GPUs free by
    class in its regions (`gpus_free`: the catalog's number, reported or staff's override, and when the newest
    report came: `capacity_reported_at`; a disabled cluster serves none).

    A probe never raises: an unreachable cluster is a row saying so, never a broken page."""
    records = list(Cluster.objects.prefetch_related("regions").order_by("name"))
    served = {}  # region code -> the enabled record serving it (the first by name, as clusters.selectors)
    for record in records:
        if record.enabled:
            for region in record.regions.all():
                served.setdefault(region.code, record.name)

    on_cluster = {}  # cluster name (None: default) -> {region: count}
    for row in (Deployment.objects.filter(status__in=SYNCED_STATUSES)
                .values("region").annotate(n=Count("id")).order_by("region")):
        on_cluster.setdefault(served.get(row["region"]), {})[row["region"] or "?"] = row["n"]
    last_sync = {}
    for row in (Deployment.objects.filter(last_synced_at__isnull=False)
                .values("region").annotate(last=Max("last_synced_at"))):
        name = served.get(row["region"])
        if last_sync.get(name) is None or row["last"] > last_sync[name]:
            last_sync[name] = row["last"]

    rows = [{"name": record.name, "slug": record.name, "is_default": False, "pk": record.pk,
             "enabled": record.enabled, "draining": record.draining,
             "regions": sorted(region.code for region in record.regions.all()),
             "ref": record.ref(), "key": record.name} for record in records]
    configured = default_cluster_configured()
    if configured or None in on_cluster or not records:
        rows.append({"name": DEFAULT_CLUSTER_NAME, "slug": "default", "is_default": True, "pk": None,
                     "enabled": True, "draining": False,
                     "regions": sorted(code for code in Region.objects.values_list("code", flat=True)
                                       if code not in served),
                     "ref": None, "key": None, "configured": configured})

    probed = [row for row in rows if not row["is_default"] or row["configured"]]
    for row, probe in zip(probed, clusters_probe([row["ref"] for row in probed])):
        row["probe"] = probe
    free = _gpus_free(region_offerings_list() if offerings is None else offerings)
    for row in rows:
        row["gpus_free"] = sorted((entry for code in row["regions"] for entry in free.get(code, [])),
                                  key=lambda e: (e["gpu_class"], e["region"])) if row["enabled"] else []
        row["capacity_reported_at"] = max((e["reported_at"] for e in row["gpus_free"] if e["reported_at"]),
                                          default=None)
        row.setdefault("probe", Probe(reachable=False, reason="not configured (no KUBECONFIG, not in a cluster)"))
        by_region = on_cluster.get(row.pop("key"), {})
        row["deployments_by_region"] = sorted(by_region.items())
        row["deployments"] = sum(by_region.values())
        row["last_synced_at"] = last_sync.get(row["name"] if not row["is_default"] else None)
        del row["ref"]
    return rows


def fleet_overview():
    """Everything the fleet page shows, in one dict."""
    offerings = list(region_offerings_list())
    gpus = gpus_in_use_by_class_and_region(offerings)
    cluster_rows = clusters_overview(offerings)
    draining = {code for c in cluster_rows if c["enabled"] and c["draining"] for code in c["regions"]}
    for row in gpus:
        row["draining"] = row["region"] in draining
    pending = pending_approvals()
    return {
        "clusters": cluster_rows,
        "gpus": gpus,
        "gpus_total": sum(r["gpus"] or 0 for r in gpus),
        "live_count": sum(r["deployments"] for r in gpus),
        "spend": spend_by_team_this_month(),
        "month_start": month_start(),
        "failing": list(failing_deployments()),
        "drifted": list(drifted_deployments()),
        "drift_events": list(drift_events_recent()),
        "pending": list(pending.order_by("created_at")[:20]),
        "pending_count": pending.count(),
    }
