"""Per-deployment spend reports: the cost of a batch run and the scale-to-zero ledger.

Built on the metering in spend/metering.py (samples -> runs -> priced meters). Whether the
deployment is at zero or warm now is not decided here: deployments/state.py decides it and the
caller passes it in, so the ledger and the dashboard always agree.
"""

from datetime import timedelta

from django.utils import timezone

from specs.vocabulary import Target

from .metering import (
    ZERO,
    cpu_held,
    max_sample_gap,
    meter_runs,
    money,
    retention_seconds,
    runs_from_samples,
    series_prices,
    warm_windows,
)
from .models import StatusSample


def _series(deployment, start, end):
    gap = max_sample_gap()
    return list(
        StatusSample.objects.filter(deployment=deployment, at__gte=start - gap, at__lt=end + timedelta(hours=1))
        .order_by("at").values_list("at", "status", "gpus_in_use", "gpu_class", "vcpus_in_use", "memory_gi_in_use")
    )


def _spec_of(deployment):
    return (deployment.current_revision.spec if deployment.current_revision_id else None) or {}


def _retention_of(deployment):
    return retention_seconds((_spec_of(deployment).get("scaling") or {}).get("scale_to_zero_retention"))


def batch_run_cost(*, deployment, now=None):
    """Cost of the deployment's current batch run: its pods' GPU (or CPU-node) time from start to end (or now)."""
    return batch_runs_costs(deployment=deployment, windows=[(deployment.run_started_at, deployment.run_finished_at)],
                            now=now)[0]


def batch_runs_costs(*, deployment, windows, now=None):
    """The cost of each run window [(started_at, finished_at or None)], in that order: one samples query
    and one price book for all of them. A window that never started costs nothing."""
    now = now or timezone.now()
    started = [(start, end or now) for start, end in windows if start]
    if not started:
        return [ZERO] * len(windows)
    series = _series(deployment, min(s for s, _ in started), max(e for _, e in started))
    runs = runs_from_samples(series, until=now)
    prices = series_prices(deployment, series)
    gap = max_sample_gap()
    return [money(meter_runs(runs, gpu_class=deployment.gpu_class, prices=prices, start=start - gap,
                             end=end or now).cost_usd) if start else ZERO for start, end in windows]


def scale_to_zero_ledger(*, deployment, at_zero_now, now=None, days=7):
    """What scaling to zero did for this deployment over the last `days` days (the samples kept that long).

    `at_zero_now`: the deployment's scale-to-zero state is "zero" (deployments.state.scale_to_zero_state).

    saved_usd compares with the same service always on at a minimum of one replica: that service
    would have paid for one replica's GPUs (vCPUs and RAM on CPU nodes) whenever this one was at zero, and the same otherwise.
    """
    now = now or timezone.now()
    start = max(deployment.created_at, now - timedelta(days=days))
    series = _series(deployment, start, now)
    prices = series_prices(deployment, series)
    gap = max_sample_gap()
    windows = warm_windows(series, retention=_retention_of(deployment), idle_since=deployment.idle_since,
                           online=deployment.target != Target.ARGO)
    spent = meter_runs(runs_from_samples(series, until=now, max_gap=gap), gpu_class=deployment.gpu_class,
                       prices=prices, start=start, end=now, windows=windows)
    # Zero periods, held like any sample and priced as one replica of the same service.
    vcpus, memory = cpu_held(_spec_of(deployment), 1)
    one = (0, vcpus, memory) if vcpus or memory else (deployment.gpus_per_replica, ZERO, ZERO)
    zero = []
    for at, status, gpus, cls, cpus, mem in series:
        held_gpus, held_cpus, held_mem = (0, ZERO, ZERO) if gpus or cpus or mem else one
        zero.append((at, status, held_gpus, cls, held_cpus, held_mem))
    saved = meter_runs(runs_from_samples(zero, until=now, max_gap=gap), gpu_class=deployment.gpu_class,
                       prices=prices, start=start, end=now)
    zero_times = [at for at, _status, gpus, _cls, cpus, mem in series if not (gpus or cpus or mem)]
    if deployment.scaled_to_zero_at:
        zero_times.append(deployment.scaled_to_zero_at)
    return {
        "period_start": start, "period_end": now, "at_zero_now": at_zero_now,
        "since_zero": None if at_zero_now or not zero_times else now - max(zero_times),
        "warm_seconds": int(spent.warm_seconds), "warm_usd": money(spent.warm_cost_usd),
        "spent_usd": money(spent.cost_usd), "saved_usd": money(saved.cost_usd),
        "always_on_usd": money(spent.cost_usd + saved.cost_usd),
    }
