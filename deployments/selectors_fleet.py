"""Reads for the platform staff's fleet overview: the whole cloud at once, a handful of queries.

Staff only: the view checks is_staff before calling these (they are not scoped to a user).
"""

from datetime import timedelta

from django.db.models import Count, DecimalField, Q, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from audit.models import Event
from catalog.models import RegionOffering
from specs.vocabulary import Status
from teams.models import Team

from .models import Deployment
from .state import LIVE_STATUSES

# How far back the "recent drift" list looks in the event log.
DRIFT_WINDOW = timedelta(days=7)


def gpus_in_use_by_class_and_region():
    """[{gpu_class, region, gpus, deployments, free}] for everything live, busiest first."""
    rows = (
        Deployment.objects.filter(status__in=LIVE_STATUSES)
        .values("gpu_class", "region")
        .annotate(gpus=Sum("gpus_in_use"), deployments=Count("id"))
        .order_by("-gpus", "gpu_class", "region")
    )
    free = {
        (o["gpu_class__name"], o["region__code"]): o["available_gpus"]
        for o in RegionOffering.objects.values("gpu_class__name", "region__code", "available_gpus")
    }
    return [{**r, "free": free.get((r["gpu_class"], r["region"]))} for r in rows]


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


def fleet_overview():
    """Everything the fleet page shows, in one dict."""
    gpus = gpus_in_use_by_class_and_region()
    pending = pending_approvals()
    return {
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
