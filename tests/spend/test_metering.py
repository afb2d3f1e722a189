"""Spend metering on hand-computed cases: GPU-hours × the price in force, warm pods counted apart."""

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from catalog.models import GpuClass, GpuPrice
from deployments.selectors_detail import deployment_ledger
from specs.vocabulary import Status, Target, Workload
from spend import budgets, rollups
from spend import ledger as spend_ledger
from spend import selectors as spend_selectors
from spend.models import DailySpend, StatusSample
from tests.factories import DeploymentFactory, batch_spec, online_spec

pytestmark = pytest.mark.django_db


@pytest.fixture
def gpu():
    """A GPU class at $2/GPU-hour, so the arithmetic stays readable."""
    g = GpuClass.objects.create(name="TEST_GPU", display_name="Test GPU", vram_gb=80, price_per_gpu_hour=Decimal("2"))
    GpuPrice.objects.create(gpu_class=g, price_per_gpu_hour=Decimal("2"), valid_from=datetime(2020, 1, 1, tzinfo=UTC))
    return g


@pytest.fixture
def day():
    return timezone.now().date() - timedelta(days=2)


def at(day, hh, mm=0):
    return datetime.combine(day, time(hh, mm), tzinfo=UTC)


def deployment(team, *, retention="30m", min_replicas=0, gpus_per_replica=2, **kwargs):
    spec = online_spec(team=team.slug, scaling={"min_replicas": min_replicas, "max_replicas": 4,
                                                "scale_to_zero_retention": retention})
    return DeploymentFactory(team=team, gpu_class="TEST_GPU", gpus_per_replica=gpus_per_replica, revision=spec, **kwargs)


def samples(d, start, minutes, *, pods, gpus_per_pod=2, status=Status.RUNNING, step=60):
    """One sample every `step` seconds for `minutes` minutes from `start`, like the sync writes them."""
    StatusSample.objects.bulk_create(
        StatusSample(deployment=d, at=start + timedelta(seconds=s), status=status, ready_pods=pods,
                     total_pods=pods, gpus_in_use=pods * gpus_per_pod)
        for s in range(0, minutes * 60, step)
    )


def rollup(d, day):
    rollups.spend_rollup(day=day)
    return DailySpend.objects.get(deployment=d, day=day)


def test_scaled_to_zero_costs_nothing_and_the_retention_window_costs(team, gpu, day):
    d = deployment(team, retention="30m")
    samples(d, at(day, 10), 60, pods=1)                                   # 1 pod × 2 GPUs for an hour
    samples(d, at(day, 11), 600, pods=0, status=Status.SCALED_TO_ZERO)    # then ten hours at zero
    row = rollup(d, day)
    assert row.gpu_hours == Decimal("2")                                  # 2 GPUs × 1 h; zero adds nothing
    assert row.cost_usd == Decimal("4")                                   # × $2
    assert row.warm_cost_usd == Decimal("2")                              # the last 30 min were the warm window


def test_a_short_retention_bills_less_warm_time(team, gpu, day):
    d = deployment(team, retention="10m")
    samples(d, at(day, 10), 60, pods=1)
    samples(d, at(day, 11), 60, pods=0, status=Status.SCALED_TO_ZERO)
    row = rollup(d, day)
    assert row.cost_usd == Decimal("4")
    assert row.warm_cost_usd.quantize(Decimal("0.0001")) == Decimal("0.6667")   # 2 GPUs × 10 min × $2/h


def test_always_on_service_has_no_warm_cost(team, gpu, day):
    d = deployment(team, min_replicas=1)
    samples(d, at(day, 0), 24 * 60, pods=1, gpus_per_pod=1)
    row = rollup(d, day)
    assert (row.gpu_hours, row.cost_usd, row.warm_cost_usd) == (Decimal(24), Decimal(48), Decimal(0))


def test_a_stopped_sync_does_not_bill_unobserved_hours(team, gpu, day):
    d = deployment(team, min_replicas=1)
    samples(d, at(day, 10), 30, pods=1, gpus_per_pod=1)             # samples 10:00 .. 10:29
    samples(d, at(day, 14), 1, pods=1, gpus_per_pod=1)              # the sync comes back at 14:00
    row = rollup(d, day)
    # 10:00-10:29 observed, the 10:29 sample holds for the 2-minute cap, 14:00 holds for 2 minutes: 33 min.
    assert row.gpu_hours == Decimal("0.55")


def test_price_change_in_the_middle_of_a_day(team, gpu, day):
    GpuPrice.objects.create(gpu_class=gpu, price_per_gpu_hour=Decimal("3"), valid_from=at(day, 12))
    d = deployment(team, min_replicas=1)
    samples(d, at(day, 11), 120, pods=1, gpus_per_pod=1)            # 11:00-13:00, one GPU
    samples(d, at(day, 13), 1, pods=0, status=Status.DELETED)
    row = rollup(d, day)
    assert row.gpu_hours == Decimal(2)
    assert row.cost_usd == Decimal(5)                               # 1 h at $2 + 1 h at $3


def test_batch_run_is_priced_by_its_pods_run_time(team, gpu, day):
    d = DeploymentFactory(team=team, workload=Workload.BATCH, target=Target.ARGO, gpu_class="TEST_GPU",
                          status=Status.SUCCEEDED, revision=batch_spec(team=team.slug),
                          run_started_at=at(day, 9), run_finished_at=at(day, 9, 45))
    samples(d, at(day, 9), 30, pods=2, gpus_per_pod=1)              # two shards for 30 min
    samples(d, at(day, 9, 30), 15, pods=1, gpus_per_pod=1)          # the last shard for 15 min
    samples(d, at(day, 9, 45), 5, pods=0, status=Status.SUCCEEDED)
    row = rollup(d, day)
    assert row.gpu_hours == Decimal("1.25")                         # 2 × 0.5 h + 1 × 0.25 h
    assert row.cost_usd == Decimal("2.5")
    assert row.warm_cost_usd == 0                                   # a finished run is not kept warm
    assert spend_ledger.batch_run_cost(deployment=d) == Decimal("2.50")


def test_rollup_is_idempotent(team, gpu, day):
    d = deployment(team)
    samples(d, at(day, 10), 90, pods=2)
    samples(d, at(day, 11, 30), 30, pods=0, status=Status.SCALED_TO_ZERO)
    first = rollup(d, day)
    second = rollup(d, day)
    assert DailySpend.objects.filter(deployment=d).count() == 1
    assert (first.gpu_hours, first.cost_usd, first.warm_cost_usd) == (second.gpu_hours, second.cost_usd,
                                                                       second.warm_cost_usd)
    assert second.cost_usd == Decimal(12)                           # 4 GPUs × 1.5 h × $2


def test_thinning_old_samples_does_not_change_spend(team, gpu):
    old_day = timezone.now().date() - timedelta(days=20)
    d = deployment(team)
    samples(d, at(old_day, 10), 60, pods=1)
    samples(d, at(old_day, 11), 60, pods=0, status=Status.SCALED_TO_ZERO)
    before = rollups.deployments_meter([d.pk], start=at(old_day, 0), end=at(old_day, 0) + timedelta(days=1))[d.pk]

    deleted = rollups.samples_thin()
    assert deleted == 120
    assert not StatusSample.objects.filter(deployment=d).exists()
    rollups.spend_rollup(day=old_day)                                  # a late recompute must not zero the day
    report = spend_selectors.team_spend_by_day(team=team, start=old_day, end=old_day)
    assert report["total_usd"] == before.cost_usd.quantize(Decimal("0.01")) == Decimal("4.00")
    assert report["deployments"][0]["warm_cost_usd"] == Decimal("2.00")


def test_team_spend_by_day_and_budget_levels(team, gpu):
    today = timezone.now().date()
    a, b = deployment(team, name="alpha"), deployment(team, name="beta")
    team.monthly_budget_usd = Decimal(100)
    team.save()
    DailySpend.objects.create(deployment=a, team=team, day=today, cost_usd=Decimal("50"), gpu_hours=25)
    DailySpend.objects.create(deployment=b, team=team, day=today, cost_usd=Decimal("30.5"), gpu_hours=15)
    report = spend_selectors.team_spend_by_day(team=team, start=today, end=today)
    assert report["total_usd"] == Decimal("80.50")
    assert [x["name"] for x in report["deployments"]] == ["alpha", "beta"]
    assert report["days"][0]["cost_usd"] == Decimal("80.50")
    mtd = budgets.team_month_to_date(team=team)
    assert (mtd["spent_usd"], mtd["level"], mtd["percent"]) == (Decimal("80.50"), "warn", 80)
    DailySpend.objects.filter(deployment=b).update(cost_usd=Decimal("60"))
    assert budgets.team_month_to_date(team=team)["level"] == "over"


def test_burn_rate_is_gpus_in_use_times_the_price_now(team, gpu):
    d = deployment(team, gpus_in_use=4)
    summary = spend_selectors.deployment_spend_summary(deployment=d)
    assert summary["burn_rate_usd_per_hour"] == Decimal("8.00")
    d.gpus_in_use = 0
    assert spend_selectors.deployment_spend_summary(deployment=d)["burn_rate_usd_per_hour"] == 0


def test_scale_to_zero_ledger(team, gpu):
    now = timezone.now().replace(microsecond=0)
    d = deployment(team, retention="30m", gpus_per_replica=2, status=Status.SCALED_TO_ZERO)
    start = now - timedelta(hours=3)
    samples(d, start, 60, pods=1)                                      # 1 h with 2 GPUs: $4, last 30 min warm
    samples(d, start + timedelta(hours=1), 120, pods=0, status=Status.SCALED_TO_ZERO)   # 2 h at zero
    d.created_at = start
    ledger = deployment_ledger(d, now=now)  # the state module decides "at zero now"
    assert ledger["spent_usd"] == Decimal("4.00")
    assert ledger["warm_usd"] == Decimal("2.00")
    assert ledger["warm_seconds"] == 1800
    assert ledger["saved_usd"] == Decimal("8.00")                       # one 2-GPU replica × 2 h × $2
    assert ledger["at_zero_now"] is True


def test_the_periodic_rollup_catches_up_on_days_it_missed(team, gpu):
    today = timezone.now().date()
    d = deployment(team, min_replicas=1)
    for back in (3, 2):
        samples(d, at(today - timedelta(days=back), 10), 30, pods=1, gpus_per_pod=1)
        samples(d, at(today - timedelta(days=back), 10, 30), 1, pods=0, status=Status.DELETED)
    rollups.rollup_spend()
    rows = dict(DailySpend.objects.filter(deployment=d).values_list("day", "cost_usd"))
    assert rows == {today - timedelta(days=3): Decimal(1), today - timedelta(days=2): Decimal(1)}


def test_a_move_to_another_gpu_class_keeps_earlier_hours_at_the_old_class_price(team, gpu, day):
    """Two hours on TEST_GPU ($2) then a revision moves it to a $5 class: 2×2×$2 + 2×2×$5, not 4×2×$5."""
    dearer = GpuClass.objects.create(name="DEAR_GPU", display_name="Dear GPU", vram_gb=80,
                                     price_per_gpu_hour=Decimal("5"))
    d = deployment(team)
    samples(d, at(day, 8), 120, pods=1)
    StatusSample.objects.filter(deployment=d).update(gpu_class="TEST_GPU")
    d.gpu_class = dearer.name  # the new revision's class; older samples keep theirs
    d.save(update_fields=["gpu_class"])
    before = set(StatusSample.objects.filter(deployment=d).values_list("pk", flat=True))
    samples(d, at(day, 10), 120, pods=1)
    samples(d, at(day, 12), 1, pods=0, status=Status.SCALED_TO_ZERO)
    StatusSample.objects.filter(deployment=d).exclude(pk__in=before).update(gpu_class="DEAR_GPU")
    row = rollup(d, day)
    assert row.gpu_hours == Decimal("8")
    assert row.cost_usd == Decimal("28")  # 4 GPU-h × $2 + 4 GPU-h × $5
