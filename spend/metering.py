"""Spend metering: GPU-hours from status samples, priced by the price history.

The rule (OpenCost's, for GPUs): cost = GPUs held by running pods × hours × the
price per GPU-hour in force at that instant. Each status sample's `gpus_in_use`
holds until the next sample, but never longer than MAX_SAMPLE_GAP: a sync that
stopped must not bill hours nobody observed. A deployment at zero holds no GPUs,
so it costs nothing; pods kept warm by the scale-to-zero retention window hold
GPUs, so they cost, and that part is also reported as `warm_cost_usd`.

CPU nodes (`compute.accelerator: cpu`) follow the same rule with what a pod without a GPU is
billed for (catalog-facts.md "Spend", OpenCost: requested × hours): each sample also holds the
vCPUs and GiB of RAM its running pods requested (cpu_held: the spec's compute.cpu and
compute.memory_gi per replica), priced at the catalog's CPU rate in force, vCPU-hours × $/vCPU-hour
+ GB-hours × $/GB-hour, each requested GiB counted as one billed GB as the estimate does
(specs/cost.py). GPU replicas hold no CPU rows: their rate includes the host's CPU and RAM.

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
from specs.cpu import on_cpu
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
    vcpu_hours: Decimal = ZERO
    gb_hours: Decimal = ZERO

    def add(self, other):
        self.gpu_hours += other.gpu_hours
        self.vcpu_hours += other.vcpu_hours
        self.gb_hours += other.gb_hours
        self.cost_usd += other.cost_usd
        self.warm_cost_usd += other.warm_cost_usd
        self.warm_seconds += other.warm_seconds


def series_prices(deployment, series):
    """A PriceBook for the deployment's class and every class its samples ran on."""
    return PriceBook({deployment.gpu_class, *(sample[3] for sample in series if len(sample) > 3 and sample[3])})


def cpu_held(spec, running_pods):
    """(vCPUs, GiB of RAM) the running pods of a CPU-node spec request; (0, 0) on GPU nodes."""
    if not running_pods or not on_cpu(spec or {}):
        return ZERO, ZERO
    compute = spec.get("compute") or {}
    return (Decimal(str(compute.get("cpu") or 0)) * running_pods,
            Decimal(str(compute.get("memory_gi") or 0)) * running_pods)


def _held(sample):
    """What a sample (at, status, gpus[, gpu_class[, vcpus, memory_gi]]) holds: (gpus, vcpus, memory_gi)."""
    gpus, *rest = sample[2:]
    cpu = rest[1:3] if len(rest) >= 3 else (ZERO, ZERO)
    return gpus, cpu[0] or ZERO, cpu[1] or ZERO


def retention_seconds(value):
    seconds = duration_seconds(value) if value else None
    return DEFAULT_RETENTION_SECONDS if seconds is None else seconds


def runs_from_samples(samples, *, until, max_gap=None):
    """[(start, end, gpus, gpu_class, vcpus, memory_gi)] from (at, status, gpus[, gpu_class[, vcpus,
    memory_gi]]) samples sorted by time.

    Each sample holds until the next one, capped at max_gap. gpu_class is None when the sample
    does not say (the deployment's class is used then).
    """
    max_gap = max_gap or max_sample_gap()
    runs = []
    for i, sample in enumerate(samples):
        at, rest = sample[0], sample[3:]
        gpus, vcpus, memory = _held(sample)
        gpu_class = (rest[0] if rest else None) or None
        nxt = samples[i + 1][0] if i + 1 < len(samples) else until
        end = min(nxt, at + max_gap)
        if end <= at or not (gpus or vcpus or memory):
            continue
        key = (gpus, gpu_class, vcpus, memory)
        if runs and runs[-1][1] == at and runs[-1][2:] == key:
            runs[-1] = (runs[-1][0], end, *key)
        else:
            runs.append((at, end, *key))
    return runs


def warm_windows(samples, *, retention, idle_since=None, online=True):
    """[(start, end)] when pods were kept warm: the retention before each drop to zero, and the idle period now."""
    if not online:
        return []
    windows, last_zero = [], None
    keep = timedelta(seconds=retention)
    for i, (at, status, *_) in enumerate(samples):
        held = any(_held(samples[i]))
        if held or i == 0:
            if not held:
                last_zero = at
            continue
        if any(_held(samples[i - 1])) and status not in NOT_WARM_DROPS:
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
        vcpus, memory = rest[1:3] if len(rest) >= 3 else (ZERO, ZERO)
        a, b = max(run_start, start), min(run_end, end)
        if b <= a:
            continue
        cuts = {a, b, *(prices.split_points(gpu_class, a, b) if gpus else ()),
                *(prices.cpu_split_points(a, b) if vcpus or memory else ())}
        for w_start, w_end in windows:
            cuts.update(t for t in (w_start, w_end) if a < t < b)
        edges = sorted(cuts)
        for seg_start, seg_end in zip(edges, edges[1:]):
            seconds = Decimal((seg_end - seg_start) / timedelta(microseconds=1)) / Decimal(1_000_000)
            gpu_hours = gpus * seconds / HOUR
            cost = gpu_hours * prices.price_at(gpu_class, seg_start) if gpus else ZERO
            if vcpus or memory:
                per_vcpu, per_gb = prices.cpu_rate_at(seg_start)
                vcpu_hours, gb_hours = vcpus * seconds / HOUR, memory * seconds / HOUR
                cost += vcpu_hours * per_vcpu + gb_hours * per_gb
                meter.vcpu_hours += vcpu_hours
                meter.gb_hours += gb_hours
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
