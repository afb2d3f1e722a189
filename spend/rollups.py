"""Spend rolled up per deployment per day (DailySpend), so spend questions stay fast as samples grow.

`spend_rollup` recomputes DailySpend from the samples (an idempotent upsert: the same samples
give the same row), and with it the per-team sums of the days it wrote (TeamDailySpend), in the
same transaction, so the team totals a month-to-date reads never disagree with the rows. Samples
older than the sample retention are thinned only once their day is rolled up, and days that old are
never recomputed, so thinning cannot change spend.
"""

from collections import defaultdict
from datetime import timedelta

from django.db import transaction
from django.db.models import Max, Min, Sum
from django.db.models.fields.json import KeyTextTransform, KeyTransform
from django.utils import timezone

from catalog.pricebook import PriceBook
from specs.vocabulary import Target

from .metering import (
    MICRO,
    day_bounds,
    max_sample_gap,
    meter_runs,
    retention_seconds,
    runs_from_samples,
    sample_retention,
    warm_windows,
)
from .budgets import budget_alerts_send
from .models import DailySpend, StatusSample, TeamDailySpend


def _deployments():
    """The deployments table, reached through the samples' foreign key: spend imports nothing above it."""
    return StatusSample._meta.get_field("deployment").related_model.objects


def retention_expression(prefix=""):
    """The spec's scale_to_zero_retention, read in SQL (the JSON path crosses the current_revision relation)."""
    return KeyTextTransform("scale_to_zero_retention", KeyTransform("scaling", f"{prefix}current_revision__spec"))


def _meta(deployments):
    """{id: (gpu_class, online, retention_seconds, idle_since, team_id)} for the rollup, in one query."""
    rows = _deployments().filter(pk__in=deployments).annotate(
        retention=retention_expression()
    ).values_list("pk", "gpu_class", "target", "retention", "idle_since", "team_id")
    return {
        pk: (gpu_class, target != Target.ARGO, retention_seconds(retention), idle, team_id)
        for pk, gpu_class, target, retention, idle, team_id in rows
    }


def deployments_meter(deployment_ids, *, start, end, now=None, prices=None):
    """{deployment id: Meter} for [start, end), from the samples (with look-behind and look-ahead)."""
    now = now or timezone.now()
    meta = _meta(deployment_ids)
    gap = max_sample_gap()
    lookahead = timedelta(seconds=3600)  # the longest retention Knative allows
    samples = defaultdict(list)
    classes = {m[0] for m in meta.values()}
    rows = (
        StatusSample.objects.filter(deployment_id__in=meta, at__gte=start - gap, at__lt=end + lookahead)
        .order_by("deployment_id", "at")
        .values_list("deployment_id", "at", "status", "gpus_in_use", "gpu_class", "vcpus_in_use", "memory_gi_in_use")
    )
    for pk, at, status, gpus, gpu_class, vcpus, memory in rows.iterator(chunk_size=5000):
        samples[pk].append((at, status, gpus, gpu_class, vcpus, memory))
        classes.add(gpu_class)
    prices = prices or PriceBook(classes - {""})
    result = {}
    for pk, series in samples.items():
        gpu_class, online, retention, idle_since, _team = meta[pk]
        runs = runs_from_samples(series, until=min(end + lookahead, now), max_gap=gap)
        windows = warm_windows(series, retention=retention, idle_since=idle_since, online=online)
        result[pk] = meter_runs(runs, gpu_class=gpu_class, prices=prices, start=start, end=min(end, now),
                                windows=windows)
    return result


def _days_due(now, frozen_before):
    """Today, yesterday while its late samples may still land, and any day missed while the job was down."""
    today = now.date()
    days = {today, (now - max_sample_gap() - timedelta(hours=1)).date()}
    last = DailySpend.objects.aggregate(last=Max("day"))["last"]
    if last is None:
        first = StatusSample.objects.aggregate(first=Min("at"))["first"]
        last = first.date() if first else today
    day = max(last, frozen_before)
    while day < today:
        days.add(day)
        day += timedelta(days=1)
    return sorted(days)


def spend_rollup(*, day=None, deployment_ids=None):
    """Recompute DailySpend for one day (default: today, and yesterday while its late samples may still land).

    Idempotent: an upsert from the samples. Days older than the sample retention are frozen (their
    samples may be thinned), so asking for one is a no-op. Returns the number of rows written.
    """
    now = timezone.now()
    frozen_before = (now - sample_retention()).date()
    days = [day] if day else _days_due(now, frozen_before)
    written = 0
    for d in sorted(set(days)):
        if d < frozen_before:
            continue
        start, end = day_bounds(d)
        ids = StatusSample.objects.filter(at__gte=start - max_sample_gap(), at__lt=end)
        if deployment_ids is not None:
            ids = ids.filter(deployment_id__in=deployment_ids)
        ids = set(ids.values_list("deployment_id", flat=True).distinct())
        meters = deployments_meter(ids, start=start, end=end, now=now)
        with transaction.atomic():
            rows = _rollup_rows(d, meters)
        written += rows
    return written


def samples_thin(*, now=None):
    """Delete samples older than the retention, after making sure their days are rolled up. Returns rows deleted."""
    now = now or timezone.now()
    cutoff_day = (now - sample_retention()).date()
    cutoff = day_bounds(cutoff_day)[0]
    old_days = (
        StatusSample.objects.filter(at__lt=cutoff).dates("at", "day")
    )
    for d in old_days:
        if not DailySpend.objects.filter(day=d).exists():
            # Never rolled up (e.g. the rollup task was down): roll up before the samples go.
            start, end = day_bounds(d)
            ids = set(StatusSample.objects.filter(at__gte=start, at__lt=end).values_list("deployment_id", flat=True))
            with transaction.atomic():
                _rollup_rows(d, deployments_meter(ids, start=start, end=end, now=now))
    deleted, _ = StatusSample.objects.filter(at__lt=cutoff - max_sample_gap()).delete()
    return deleted


def _rollup_rows(d, meters):
    """Upsert one DailySpend row per metered deployment; the same meters always give the same rows."""
    teams = dict(_deployments().filter(pk__in=meters).values_list("pk", "team_id"))
    rows = [
        DailySpend(deployment_id=pk, team_id=teams[pk], day=d, gpu_hours=m.gpu_hours.quantize(MICRO),
                   cost_usd=m.cost_usd.quantize(MICRO), warm_cost_usd=m.warm_cost_usd.quantize(MICRO))
        for pk, m in meters.items() if pk in teams
    ]
    DailySpend.objects.bulk_create(
        rows, update_conflicts=True, unique_fields=["deployment", "day"],
        update_fields=["gpu_hours", "cost_usd", "warm_cost_usd", "team"],
    )
    team_spend_refresh(day=d, team_ids=set(teams.values()))
    return len(rows)


def team_spend_refresh(*, day, team_ids=None):
    """Recompute TeamDailySpend for one day from DailySpend: every team's, or those of `team_ids` (the teams
    whose rows were just written; the (team, day) index then reads only theirs). Returns the rows written."""
    detail = DailySpend.objects.filter(day=day)
    if team_ids is not None:
        detail = detail.filter(team_id__in=team_ids)
    sums = detail.values("team_id").annotate(gpu=Sum("gpu_hours"), cost=Sum("cost_usd"), warm=Sum("warm_cost_usd"))
    rows = [TeamDailySpend(team_id=s["team_id"], day=day, gpu_hours=s["gpu"], cost_usd=s["cost"],
                           warm_cost_usd=s["warm"]) for s in sums.order_by()]
    TeamDailySpend.objects.bulk_create(rows, update_conflicts=True, unique_fields=["team", "day"],
                                       update_fields=["gpu_hours", "cost_usd", "warm_cost_usd"])
    stale = TeamDailySpend.objects.filter(day=day).exclude(team_id__in=[r.team_id for r in rows])
    if team_ids is not None:
        stale = stale.filter(team_id__in=team_ids)
    stale.delete()
    return len(rows)


def rollup_spend():
    """The periodic job: roll up today (and yesterday's tail), thin old samples, then the budget alerts."""
    rows = spend_rollup()
    return {"rows": rows, "thinned": samples_thin(), "budget_alerts": len(budget_alerts_send())}
