"""Spend metering: GPU-hours from status samples, priced by the price history.

The rule (OpenCost's, for GPUs): cost = GPUs held by running pods × hours × the
price per GPU-hour in force at that instant. Each status sample's `gpus_in_use`
holds until the next sample, but never longer than MAX_SAMPLE_GAP: a sync that
stopped must not bill hours nobody observed. A deployment at zero holds no GPUs,
so it costs nothing; pods kept warm by the scale-to-zero retention window hold
GPUs, so they cost, and that part is also reported as `warm_cost_usd`.

Warm time is what the retention window kept alive: the `scale_to_zero_retention`
before each drop of an online deployment to zero pods, plus, for the idle period
in progress, the time since `idle_since`. Argo runs need nothing special: their
pods are sampled like any other.

Spend questions read DailySpend (one row per deployment per day), which
`spend_rollup` recomputes from the samples (an idempotent upsert: the same
samples give the same row). Samples older than SAMPLE_RETENTION_DAYS are thinned
only once their day is rolled up, and days that old are never recomputed, so
thinning cannot change spend.
"""

from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Min, Q, Sum
from django.db.models.fields.json import KeyTextTransform, KeyTransform
from django.utils import timezone

from catalog.models import GpuClass, GpuPrice

from .models import DailySpend, Deployment, StatusSample, Status, Target
from .specs import duration_seconds

HOUR = Decimal(3600)
ZERO = Decimal(0)
CENT = Decimal("0.01")
MICRO = Decimal("1e-6")
DEFAULT_RETENTION_SECONDS = 30 * 60
# A drop to zero in these states is a tear down or the end of a run, not the retention window ending.
NOT_WARM_DROPS = (Status.DELETING, Status.DELETED, Status.FAILED, Status.SUCCEEDED)


def max_sample_gap():
    # Four sync cycles, but at least two minutes, so a slow worker does not lose billing.
    return timedelta(seconds=max(4 * settings.SYNC_INTERVAL_SECONDS, 120))


def sample_retention():
    return timedelta(days=getattr(settings, "SPEND_SAMPLE_RETENTION_DAYS", 8))


@dataclass
class Meter:
    gpu_hours: Decimal = ZERO
    cost_usd: Decimal = ZERO
    warm_cost_usd: Decimal = ZERO
    warm_seconds: Decimal = ZERO

    def add(self, other):
        self.gpu_hours += other.gpu_hours
        self.cost_usd += other.cost_usd
        self.warm_cost_usd += other.warm_cost_usd
        self.warm_seconds += other.warm_seconds


class PriceBook:
    """Every GPU price change, loaded in one query; price_at() bisects, split_points() lists changes in a span."""

    def __init__(self, class_names=None):
        classes = GpuClass.objects.all()
        history = GpuPrice.objects.order_by("valid_from")
        if class_names is not None:
            classes, history = classes.filter(name__in=class_names), history.filter(gpu_class__name__in=class_names)
        self.current = dict(classes.values_list("name", "price_per_gpu_hour"))
        self.changes = defaultdict(list)
        for name, valid_from, price in history.values_list("gpu_class__name", "valid_from", "price_per_gpu_hour"):
            self.changes[name].append((valid_from, price))

    def price_at(self, gpu_class, at):
        rows = self.changes.get(gpu_class)
        if rows:
            i = bisect_right(rows, at, key=lambda r: r[0])
            if i:
                return rows[i - 1][1]
        return self.current.get(gpu_class) or ZERO

    def price_now(self, gpu_class):
        return self.price_at(gpu_class, timezone.now())

    def split_points(self, gpu_class, start, end):
        return [at for at, _ in self.changes.get(gpu_class, ()) if start < at < end]


def series_prices(deployment, series):
    """A PriceBook for the deployment's class and every class its samples ran on."""
    return PriceBook({deployment.gpu_class, *(sample[3] for sample in series if len(sample) > 3 and sample[3])})


def retention_seconds(value):
    seconds = duration_seconds(value) if value else None
    return DEFAULT_RETENTION_SECONDS if seconds is None else seconds


def runs_from_samples(samples, *, until, max_gap=None):
    """[(start, end, gpus, gpu_class)] from (at, status, gpus[, gpu_class]) samples sorted by time.

    Each sample holds until the next one, capped at max_gap. gpu_class is None when the sample
    does not say (the deployment's class is used then).
    """
    max_gap = max_gap or max_sample_gap()
    runs = []
    for i, (at, _status, gpus, *rest) in enumerate(samples):
        gpu_class = (rest[0] if rest else None) or None
        nxt = samples[i + 1][0] if i + 1 < len(samples) else until
        end = min(nxt, at + max_gap)
        if end <= at or not gpus:
            continue
        if runs and runs[-1][1] == at and runs[-1][2:] == (gpus, gpu_class):
            runs[-1] = (runs[-1][0], end, gpus, gpu_class)
        else:
            runs.append((at, end, gpus, gpu_class))
    return runs


def warm_windows(samples, *, retention, idle_since=None, online=True):
    """[(start, end)] when pods were kept warm: the retention before each drop to zero, and the idle period now."""
    if not online:
        return []
    windows, last_zero = [], None
    keep = timedelta(seconds=retention)
    for i, (at, status, gpus, *_) in enumerate(samples):
        if gpus or i == 0:
            if not gpus:
                last_zero = at
            continue
        if samples[i - 1][2] and status not in NOT_WARM_DROPS:
            start = at - keep
            if last_zero is not None:
                start = max(start, last_zero)  # pods came back after that zero: they were serving, not idling
            windows.append((start, at))
        last_zero = at
    if idle_since is not None:
        windows.append((idle_since, datetime.max.replace(tzinfo=UTC)))
    return windows


def meter_runs(runs, *, gpu_class, prices, start, end, windows=()):
    """Price the runs clipped to [start, end), split at price changes and warm-window edges."""
    meter = Meter()
    default_class = gpu_class
    for run_start, run_end, gpus, *rest in runs:
        gpu_class = (rest[0] if rest else None) or default_class
        a, b = max(run_start, start), min(run_end, end)
        if b <= a:
            continue
        cuts = {a, b, *prices.split_points(gpu_class, a, b)}
        for w_start, w_end in windows:
            cuts.update(t for t in (w_start, w_end) if a < t < b)
        edges = sorted(cuts)
        for seg_start, seg_end in zip(edges, edges[1:]):
            seconds = Decimal((seg_end - seg_start) / timedelta(microseconds=1)) / Decimal(1_000_000)
            gpu_hours = gpus * seconds / HOUR
            cost = gpu_hours * prices.price_at(gpu_class, seg_start)
            meter.gpu_hours += gpu_hours
            meter.cost_usd += cost
            if any(w_start <= seg_start and seg_end <= w_end for w_start, w_end in windows):
                meter.warm_cost_usd += cost
                meter.warm_seconds += seconds
    return meter


def _day_bounds(day):
    start = datetime.combine(day, time.min, tzinfo=UTC)
    return start, start + timedelta(days=1)


def retention_expression(prefix=""):
    """The spec's scale_to_zero_retention, read in SQL (the JSON path crosses the current_revision relation)."""
    return KeyTextTransform("scale_to_zero_retention", KeyTransform("scaling", f"{prefix}current_revision__spec"))


def _meta(deployments):
    """{id: (gpu_class, online, retention_seconds, idle_since, team_id)} for the rollup, in one query."""
    rows = Deployment.objects.filter(pk__in=deployments).annotate(
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
        .values_list("deployment_id", "at", "status", "gpus_in_use", "gpu_class")
    )
    for pk, at, status, gpus, gpu_class in rows.iterator(chunk_size=5000):
        samples[pk].append((at, status, gpus, gpu_class))
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
        start, end = _day_bounds(d)
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
    cutoff = _day_bounds(cutoff_day)[0]
    old_days = (
        StatusSample.objects.filter(at__lt=cutoff).dates("at", "day")
    )
    for d in old_days:
        if not DailySpend.objects.filter(day=d).exists():
            # Never rolled up (e.g. the rollup task was down): roll up before the samples go.
            start, end = _day_bounds(d)
            ids = set(StatusSample.objects.filter(at__gte=start, at__lt=end).values_list("deployment_id", flat=True))
            _rollup_rows(d, deployments_meter(ids, start=start, end=end, now=now))
    deleted, _ = StatusSample.objects.filter(at__lt=cutoff - max_sample_gap()).delete()
    return deleted


def _rollup_rows(d, meters):
    """Upsert one DailySpend row per metered deployment; the same meters always give the same rows."""
    teams = dict(Deployment.objects.filter(pk__in=meters).values_list("pk", "team_id"))
    rows = [
        DailySpend(deployment_id=pk, team_id=teams[pk], day=d, gpu_hours=m.gpu_hours.quantize(MICRO),
                   cost_usd=m.cost_usd.quantize(MICRO), warm_cost_usd=m.warm_cost_usd.quantize(MICRO))
        for pk, m in meters.items() if pk in teams
    ]
    DailySpend.objects.bulk_create(
        rows, update_conflicts=True, unique_fields=["deployment", "day"],
        update_fields=["gpu_hours", "cost_usd", "warm_cost_usd", "team"],
    )
    return len(rows)


def rollup_spend():
    """The periodic job: roll up today (and yesterday's tail), then thin old samples."""
    return {"rows": spend_rollup(), "thinned": samples_thin()}


def money(value):
    return (value or ZERO).quantize(CENT)


def team_spend_by_day(*, team, start, end):
    """Spend of a team from `start` to `end` (dates, inclusive), by day and by deployment, from DailySpend."""
    rows = (
        DailySpend.objects.filter(team=team, day__gte=start, day__lte=end)
        .values("day", "deployment_id", "deployment__name", "cost_usd", "gpu_hours", "warm_cost_usd")
        .order_by("day", "deployment__name")
    )
    days, by_deployment = {}, {}
    for r in rows:
        day = days.setdefault(r["day"], {"day": r["day"], "cost_usd": ZERO, "gpu_hours": ZERO,
                                         "warm_cost_usd": ZERO, "deployments": []})
        dep = by_deployment.setdefault(r["deployment_id"], {"id": r["deployment_id"], "name": r["deployment__name"],
                                                            "cost_usd": ZERO, "gpu_hours": ZERO, "warm_cost_usd": ZERO})
        for key in ("cost_usd", "gpu_hours", "warm_cost_usd"):
            day[key] += r[key]
            dep[key] += r[key]
        day["deployments"].append({"id": r["deployment_id"], "name": r["deployment__name"],
                                   "cost_usd": money(r["cost_usd"]), "gpu_hours": r["gpu_hours"]})
    for item in [*days.values(), *by_deployment.values()]:
        item["cost_usd"], item["warm_cost_usd"] = money(item["cost_usd"]), money(item["warm_cost_usd"])
    return {
        "team": team.slug, "from": start, "to": end, "currency": "USD",
        "total_usd": money(sum((d["cost_usd"] for d in days.values()), ZERO)),
        "days": list(days.values()),
        "deployments": sorted(by_deployment.values(), key=lambda d: (-d["cost_usd"], d["name"])),
    }


def budget_level(spent, budget):
    """'ok', 'warn' (80% or more of the budget) or 'over' (100% or more)."""
    if not budget:
        return "over" if spent > 0 else "ok"
    ratio = spent / budget
    return "over" if ratio >= 1 else "warn" if ratio >= Decimal("0.8") else "ok"


def team_month_to_date(*, team, today=None):
    today = today or timezone.now().date()
    totals = DailySpend.objects.filter(team=team, day__gte=today.replace(day=1), day__lte=today).aggregate(
        cost=Sum("cost_usd"), warm=Sum("warm_cost_usd"), today=Sum("cost_usd", filter=Q(day=today))
    )
    spent, budget = money(totals["cost"]), team.monthly_budget_usd
    return {
        "spent_usd": spent, "warm_usd": money(totals["warm"]), "today_usd": money(totals["today"]),
        "budget_usd": budget, "percent": int(spent * 100 / budget) if budget else (100 if spent else 0),
        "level": budget_level(spent, budget),
    }


def deployment_spend_summary(*, deployment, prices=None):
    """Today, month to date (rolled up) and the burn rate now ($/h = GPUs in use × current price)."""
    today = timezone.now().date()
    totals = DailySpend.objects.filter(deployment=deployment, day__gte=today.replace(day=1), day__lte=today).aggregate(
        month=Sum("cost_usd"), today=Sum("cost_usd", filter=Q(day=today)), warm=Sum("warm_cost_usd")
    )
    prices = prices or PriceBook([deployment.gpu_class])
    price = prices.price_now(deployment.gpu_class)
    return {
        "today_usd": money(totals["today"]), "month_usd": money(totals["month"]),
        "warm_month_usd": money(totals["warm"]),
        "price_per_gpu_hour": price, "burn_rate_usd_per_hour": money(deployment.gpus_in_use * price),
    }
