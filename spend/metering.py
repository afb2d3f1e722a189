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

Rollups into DailySpend are spend/rollups.py; budgets spend/budgets.py; reports spend/ledger.py.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings

from catalog.pricebook import PriceBook
from specs.formats import duration_seconds
from specs.vocabulary import Status

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


def day_bounds(day):
    start = datetime.combine(day, time.min, tzinfo=UTC)
    return start, start + timedelta(days=1)


def money(value):
    return (value or ZERO).quantize(CENT)
