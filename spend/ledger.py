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
        .order_by("at").values_list("at", "status", "gpus_in_use", "gpu_class")
    )


def _retention_of(deployment):
    spec = deployment.current_revision.spec if deployment.current_revision_id else {}
    return retention_seconds(((spec or {}).get("scaling") or {}).get("scale_to_zero_retention"))


def batch_run_cost(*, deployment, now=None):
    """Cost of a batch run: its pods' GPU time from the start of the run to its end (or now)."""
    now = now or timezone.now()
    if not deployment.run_started_at:
        return ZERO
    end = deployment.run_finished_at or now
    series = _series(deployment, deployment.run_started_at, end)
    runs = runs_from_samples(series, until=min(end + max_sample_gap(), now))
    prices = series_prices(deployment, series)
    return money(meter_runs(runs, gpu_class=deployment.gpu_class, prices=prices,
                             start=deployment.run_started_at - max_sample_gap(), end=end).cost_usd)


def scale_to_zero_ledger(*, deployment, at_zero_now, now=None, days=7):
    """What scaling to zero did for this deployment over the last `days` days (the samples kept that long).

    `at_zero_now`: the deployment's scale-to-zero state is "zero" (deployments.state.scale_to_zero_state).

    saved_usd compares with the same service always on at a minimum of one replica: that service
    would have paid for one replica's GPUs whenever this one was at zero, and the same otherwise.
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
    zero = [(at, status, 0 if gpus else deployment.gpus_per_replica, cls) for at, status, gpus, cls in series]
    saved = meter_runs(runs_from_samples(zero, until=now, max_gap=gap), gpu_class=deployment.gpu_class,
                       prices=prices, start=start, end=now)
    zero_times = [at for at, _status, gpus, _cls in series if not gpus]
    if deployment.scaled_to_zero_at:
        zero_times.append(deployment.scaled_to_zero_at)
    return {
        "period_start": start, "period_end": now, "at_zero_now": at_zero_now,
        "since_zero": None if at_zero_now or not zero_times else now - max(zero_times),
        "warm_seconds": int(spent.warm_seconds), "warm_usd": money(spent.warm_cost_usd),
        "spent_usd": money(spent.cost_usd), "saved_usd": money(saved.cost_usd),
        "always_on_usd": money(spent.cost_usd + saved.cost_usd),
    }
