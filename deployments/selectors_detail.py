"""Reads for the deployment page: its live state, history, manifests and charts."""

import math
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import yaml
from django.conf import settings
from django.utils import timezone
from django.utils.timesince import timesince

from audit.models import Event
from catalog.selectors import catalog_snapshot
from specs.recommend import cold_start_seconds
from specs.vocabulary import Status, Target
from spend import metering as spend
from spend.ledger import batch_run_cost, batch_runs_costs, scale_to_zero_ledger
from spend.models import DailySpend, StatusSample
from spend.selectors import deployment_spend_summary

from .services.manifests import revision_manifests
from .state import ZERO as AT_ZERO
from .state import scale_to_zero_state

RANGES = {
    # key: (label, span, bucket)
    "1h": ("Last hour", timedelta(hours=1), timedelta(minutes=1)),
    "1d": ("Last day", timedelta(days=1), timedelta(minutes=15)),
    "30d": ("30 days", timedelta(days=30), timedelta(days=1)),
}


def deployment_scale_state(deployment, *, now):
    """(state, warm time left) from deployments.state, with the retention and minimum of the current spec."""
    spec = deployment.current_revision.spec if deployment.current_revision_id else {}
    scaling = (spec or {}).get("scaling") or {}
    return scale_to_zero_state(
        deployment, retention_seconds=spend.retention_seconds(scaling.get("scale_to_zero_retention")),
        min_replicas=scaling.get("min_replicas") or 0, now=now,
    )


def deployment_reached_cluster(deployment):
    """Has anything of this deployment been pushed (or is about to be)? A new request waiting for approval,
    or one that was rejected, has no pods, spend, sync or objects to show."""
    never_pushed = (Status.DRAFT, Status.PENDING_APPROVAL, Status.REJECTED)
    return deployment.applied_revision is not None or deployment.status not in never_pushed


def _rollup_every():
    """'minute', or '5 minutes': how often today's and the month's spend are rolled up (celery beat)."""
    seconds = settings.ROLLUP_INTERVAL_SECONDS
    return "minute" if seconds == 60 else timesince(timezone.now() - timedelta(seconds=seconds), timezone.now())


def deployment_live_read(deployment, *, now=None):
    """What the live part of the deployment page shows: scale-to-zero state, spend, batch progress."""
    now = now or timezone.now()
    state, left = deployment_scale_state(deployment, now=now)
    context = {"d": deployment, "stz_state": state, "warm_left": left, "reached_cluster":
               deployment_reached_cluster(deployment), "rollup_every": _rollup_every(),
               "summary": deployment_spend_summary(deployment=deployment)}
    if deployment.target == Target.ARGO:
        context["run_cost"] = batch_run_cost(deployment=deployment, now=now)
        end = deployment.run_finished_at or now
        context["run_duration"] = end - deployment.run_started_at if deployment.run_started_at else None
        total = deployment.shards_total or 0
        context["shard_percent"] = int(deployment.shards_done * 100 / total) if total else 0
    return context


def deployment_ledger(deployment, *, now=None):
    """The scale-to-zero ledger of an online deployment (None for batch runs)."""
    if deployment.target == Target.ARGO:
        return None
    now = now or timezone.now()
    state, _left = deployment_scale_state(deployment, now=now)
    return scale_to_zero_ledger(deployment=deployment, at_zero_now=state == AT_ZERO, now=now)


def deployment_events(deployment, *, limit=50):
    return list(Event.objects.filter(deployment=deployment).select_related("actor")[:limit])


def deployment_revisions(deployment):
    """Newest first; an online deployment's revisions carry `cold_start`, the estimate shown beside their
    measured time to ready (Revision.ready_seconds)."""
    revisions = list(deployment.revisions.select_related("created_by").defer("manifests").order_by("-number"))
    if deployment.target != Target.ARGO and revisions:
        revisions_cold_start(revisions, catalog=catalog_snapshot())
    return revisions


def revisions_cold_start(revisions, *, catalog):
    """Set each revision's `cold_start` to (low, high) seconds from specs.recommend, None for a spec it cannot read."""
    for rev in revisions:
        try:
            rev.cold_start = cold_start_seconds(rev.spec, catalog)
        except (KeyError, TypeError, ValueError, AttributeError):
            rev.cold_start = None
    return revisions


def deployment_runs(deployment, *, limit=50, now=None):
    """A batch deployment's runs, newest first, each with its duration (so far) in seconds."""
    now = now or timezone.now()
    runs = list(deployment.runs.select_related("created_by").order_by("-number")[:limit])
    # From the spend samples of each run's window (one query for all of them); never started: no cost.
    costs = batch_runs_costs(deployment=deployment, windows=[(r.started_at, r.finished_at) for r in runs], now=now)
    for run, cost in zip(runs, costs):
        end = run.finished_at or now
        run.duration_seconds = (end - run.started_at).total_seconds() if run.started_at else None
        run.cost_usd = cost if run.started_at else None
    return runs


def current_run(deployment):
    """The run whose Workflow the cluster has (batch, not scheduled), for showing the manifests as applied."""
    return deployment.current_run if deployment.target == Target.ARGO and not deployment.scheduled else None


def deployment_manifests_yaml(deployment):
    """The current revision's objects as one YAML stream ('' when there is no revision)."""
    if not deployment.current_revision_id:
        return ""
    try:
        objects = revision_manifests(deployment, deployment.current_revision, run=current_run(deployment))
    except (KeyError, TypeError, ValueError) as exc:
        # A stored spec the renderer no longer accepts must not take the whole page down.
        return f"# The manifests of this revision could not be rendered: {exc!r}\n"
    return yaml.safe_dump_all(objects, sort_keys=False)


def deployment_chart(deployment, range_key, *, now=None):
    """Pods and spend over the range: {"range", "labels", "ready", "total", "cost"} (JSON-serialisable)."""
    now = now or timezone.now()
    label, span, bucket = RANGES.get(range_key) or RANGES["1h"]
    range_key = range_key if range_key in RANGES else "1h"
    if range_key == "30d":
        return _chart_days(deployment, now, range_key)
    # From the bucket the deployment was created in: no flat zero before it existed.
    buckets = int(span / bucket)
    if deployment.created_at and deployment.created_at > now - span:
        buckets = max(1, math.ceil((now - deployment.created_at) / bucket))
    start = now - bucket * buckets
    series = list(
        StatusSample.objects.filter(deployment=deployment, at__gte=start - spend.max_sample_gap(), at__lt=now)
        .order_by("at").values_list("at", "status", "ready_pods", "total_pods", "gpus_in_use", "gpu_class",
                                    "vcpus_in_use", "memory_gi_in_use")
    )
    edges = [start + bucket * i for i in range(buckets + 1)]
    ready, total = _pods_by_bucket(series, edges)
    samples = [(s[0], s[1], *s[4:]) for s in series]
    runs = spend.runs_from_samples(samples, until=now)
    prices = spend.series_prices(deployment, samples)
    cost = [
        float(spend.meter_runs(runs, gpu_class=deployment.gpu_class, prices=prices, start=a, end=b).cost_usd
              .quantize(Decimal("0.0001")))
        for a, b in zip(edges, edges[1:])
    ]
    fmt = "%H:%M" if range_key == "1h" else "%d %b %H:%M"
    return {"range": range_key, "range_label": label, "labels": [e.strftime(fmt) for e in edges[:-1]],
            "ready": ready, "total": total, "cost": cost, "cost_label": f"USD per {_bucket_name(bucket)}",
            "has_cost": any(cost)}


def _bucket_name(bucket):
    return "minute" if bucket == timedelta(minutes=1) else "15 minutes" if bucket < timedelta(days=1) else "day"


def _pods_by_bucket(series, edges):
    """The most pods seen in each bucket; a bucket with no sample carries the last value while it is fresh."""
    gap = spend.max_sample_gap()
    ready, total, i, last = [], [], 0, None
    for a, b in zip(edges, edges[1:]):
        seen = []
        while i < len(series) and series[i][0] < b:
            if series[i][0] >= a:
                seen.append(series[i])
            last = series[i]
            i += 1
        if not seen and last is not None and a - last[0] <= gap:
            seen = [last]
        ready.append(max((s[2] for s in seen), default=0))
        total.append(max((s[3] for s in seen), default=0))
    return ready, total


def _chart_days(deployment, now, range_key):
    today = now.date()
    first = max(today - timedelta(days=29), deployment.created_at.date() if deployment.created_at else today)
    days = [today - timedelta(days=n) for n in range((today - first).days, -1, -1)]
    rolled = {
        r["day"]: r for r in DailySpend.objects.filter(deployment=deployment, day__gte=days[0])
        .values("day", "gpu_hours", "cost_usd")
    }
    per_pod = max(deployment.gpus_per_replica, 1)

    def hours_in(day):
        start = datetime.combine(day, time.min, tzinfo=UTC)
        return Decimal(min(24 * 3600, max(0, (now - start).total_seconds()))) / 3600 or Decimal(24)

    cost = [float(rolled[d]["cost_usd"]) if d in rolled else 0 for d in days]
    avg = [float((rolled[d]["gpu_hours"] / per_pod / hours_in(d)).quantize(Decimal("0.01"))) if d in rolled else 0
           for d in days]
    return {"range": range_key, "range_label": RANGES[range_key][0], "labels": [d.strftime("%d %b") for d in days],
            "ready": avg, "total": avg, "cost": cost, "cost_label": "USD per day", "pods_label": "Average pods",
            "has_cost": any(cost)}
