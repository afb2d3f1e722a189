"""Spend on CPU nodes (`compute.accelerator: cpu`), hand-computed: vCPU-hours × $/vCPU-hour + GB-hours × $/GB-hour.

catalog-facts.md "Spend" (OpenCost): requested × hours. The request is the spec's compute.cpu and
compute.memory_gi per replica, times the pods running when sampled; each GiB is billed as one GB, as the
estimate (specs/cost.py) counts it.
"""

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from catalog.models import CpuRate
from specs.vocabulary import Status, Target, Workload
from spend import budgets, rollups
from spend import ledger as spend_ledger
from spend import selectors as spend_selectors
from spend.metering import cpu_held
from spend.models import DailySpend, StatusSample
from tests.factories import DeploymentFactory, batch_spec, online_spec

pytestmark = pytest.mark.django_db


@pytest.fixture
def rate():
    """One CPU rate in force since 2020: $0.01 per vCPU-hour, $0.005 per GB-hour (catalog-facts.md)."""
    CpuRate.objects.all().delete()
    return CpuRate.objects.create(valid_from=datetime(2020, 1, 1, tzinfo=UTC), price_per_vcpu_hour=Decimal("0.01"),
                                  price_per_gb_hour=Decimal("0.005"))


@pytest.fixture
def day():
    return timezone.now().date() - timedelta(days=2)


def at(day, hh, mm=0):
    return datetime.combine(day, time(hh, mm), tzinfo=UTC)


def small_model():
    return {"uri": "s3://models/llama-3.2-1b/", "parameters_billions": 1.0, "precision": "bf16"}


def cpu_deployment(team, *, cpu=8, memory_gi=16, retention="30m", min_replicas=0, **kwargs):
    spec = online_spec(team=team.slug, model=small_model(),
                       compute={"accelerator": "cpu", "cpu": cpu, "memory_gi": memory_gi, "region": "LAS1"},
                       scaling={"min_replicas": min_replicas, "max_replicas": 4, "scale_to_zero_retention": retention,
                                "latency_tolerance": "relaxed"})
    return DeploymentFactory(team=team, gpu_class="", revision=spec, **kwargs)


def samples(d, start, minutes, *, pods, status=Status.RUNNING, step=60):
    """One sample a minute, as the sync writes them for CPU pods: no GPUs, the pods' vCPUs and RAM."""
    vcpus, memory = cpu_held(d.current_revision.spec, pods)
    StatusSample.objects.bulk_create(
        StatusSample(deployment=d, at=start + timedelta(seconds=s), status=status, ready_pods=pods, total_pods=pods,
                     gpus_in_use=0, gpu_class="", vcpus_in_use=vcpus, memory_gi_in_use=memory)
        for s in range(0, minutes * 60, step)
    )


def test_cpu_held_is_the_specs_request_per_running_pod_and_nothing_on_gpu_nodes():
    cpu_spec = {"compute": {"accelerator": "cpu", "cpu": 0.5, "memory_gi": 8}}
    assert cpu_held(cpu_spec, 3) == (Decimal("1.5"), Decimal(24))
    assert cpu_held(cpu_spec, 0) == (0, 0)
    assert cpu_held(online_spec(compute={"gpu_class": "A40", "cpu": 8, "memory_gi": 64}), 2) == (0, 0)


def test_running_cpu_deployment_is_billed_for_vcpus_and_ram_and_its_warm_window(team, rate, day):
    d = cpu_deployment(team, cpu=8, memory_gi=16, retention="30m")
    samples(d, at(day, 10), 180, pods=2)                                   # 2 pods for 3 h, 10:00-13:00
    samples(d, at(day, 13), 120, pods=0, status=Status.SCALED_TO_ZERO)     # then at zero
    rollups.spend_rollup(day=day)
    row = DailySpend.objects.get(deployment=d, day=day)
    # 2 pods × 8 vCPU × 3 h = 48 vCPU-hours × $0.01 = $0.48; 2 × 16 GiB × 3 h = 96 GB-hours × $0.005 = $0.48.
    assert row.cost_usd == Decimal("0.96")
    assert row.gpu_hours == 0
    # The last 30 min before zero were the retention window: 2 pods × 0.5 h × (8 × 0.01 + 16 × 0.005) = $0.16.
    assert row.warm_cost_usd == Decimal("0.16")
    meter = rollups.deployments_meter([d.pk], start=at(day, 0), end=at(day, 0) + timedelta(days=1))[d.pk]
    assert (meter.vcpu_hours, meter.gb_hours) == (Decimal(48), Decimal(96))


def test_cpu_rate_change_in_the_middle_of_a_run(team, rate, day):
    CpuRate.objects.create(valid_from=at(day, 12), price_per_vcpu_hour=Decimal("0.02"),
                           price_per_gb_hour=Decimal("0.01"))
    d = cpu_deployment(team, cpu=4, memory_gi=8, min_replicas=1)
    samples(d, at(day, 11), 120, pods=1)                                   # one pod, 11:00-13:00
    samples(d, at(day, 13), 1, pods=0, status=Status.DELETED)
    rollups.spend_rollup(day=day)
    row = DailySpend.objects.get(deployment=d, day=day)
    # 11-12 at the old rate: 4 × 0.01 + 8 × 0.005 = $0.08; 12-13 at the new one: 4 × 0.02 + 8 × 0.01 = $0.16.
    assert row.cost_usd == Decimal("0.24")
    assert row.warm_cost_usd == 0                                          # a tear down is not a warm window


def test_cpu_spend_reaches_the_team_report_the_budget_and_the_burn_rate(team, rate):
    today = timezone.now().date()
    d = cpu_deployment(team, cpu=8, memory_gi=16, min_replicas=1)
    start = timezone.now().replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    if start.date() != today:  # just after midnight: keep the hour inside today
        start = at(today, 0)
    samples(d, start, 60, pods=1)
    rollups.spend_rollup(day=today)
    # One pod for one hour: 8 × $0.01 + 16 × $0.005 = $0.16.
    report = spend_selectors.team_spend_by_day(team=team, start=today, end=today)
    assert report["total_usd"] == Decimal("0.16")
    assert budgets.team_month_to_date(team=team, today=today)["spent_usd"] == Decimal("0.16")
    summary = spend_selectors.deployment_spend_summary(deployment=d)
    assert summary["today_usd"] == Decimal("0.16")
    assert summary["burn_rate_usd_per_hour"] == Decimal("0.16")             # the latest sample: one pod running


def test_cpu_batch_run_cost(team, rate, day):
    spec = batch_spec(team=team.slug, model=small_model(),
                      compute={"accelerator": "cpu", "cpu": 16, "memory_gi": 32, "region": "LAS1"})
    d = DeploymentFactory(team=team, workload=Workload.BATCH, target=Target.ARGO, gpu_class="",
                          status=Status.SUCCEEDED, revision=spec, run_started_at=at(day, 9),
                          run_finished_at=at(day, 9, 30))
    samples(d, at(day, 9), 30, pods=4)                                     # four shards for 30 min
    samples(d, at(day, 9, 30), 5, pods=0, status=Status.SUCCEEDED)
    # 4 × 16 vCPU × 0.5 h = 32 vCPU-hours × $0.01 = $0.32; 4 × 32 GiB × 0.5 h = 64 GB-hours × $0.005 = $0.32.
    assert spend_ledger.batch_run_cost(deployment=d) == Decimal("0.64")


def test_scale_to_zero_ledger_of_a_cpu_deployment(team, rate):
    now = timezone.now().replace(microsecond=0)
    d = cpu_deployment(team, cpu=8, memory_gi=16, retention="30m")
    d.created_at = now - timedelta(hours=5)
    d.save(update_fields=["created_at"])
    samples(d, now - timedelta(hours=4), 60, pods=1)                       # an hour serving
    samples(d, now - timedelta(hours=3), 180, pods=0, status=Status.SCALED_TO_ZERO)  # then three at zero
    ledger = spend_ledger.scale_to_zero_ledger(deployment=d, at_zero_now=True, now=now)
    # One pod costs 8 × $0.01 + 16 × $0.005 = $0.16/h: 1 h spent, 0.5 h of it warm; 3 h at zero saved.
    assert ledger["spent_usd"] == Decimal("0.16")
    assert ledger["warm_usd"] == Decimal("0.08")
    assert ledger["saved_usd"] == Decimal("0.48")
    assert ledger["always_on_usd"] == Decimal("0.64")


def test_sync_samples_the_vcpus_and_ram_of_running_cpu_pods(sandbox, sandbox_kubeconfig, deployer, rate):
    from deployments.services.sync import status_sync
    from tests.cluster_helpers import deployment_pushed

    d = deployment_pushed(deployer, name="tiny-chat", model=small_model(),
                          compute={"accelerator": "cpu", "cpu": 4, "memory_gi": 8, "region": "LAS1"},
                          scaling={"min_replicas": 2, "max_replicas": 2, "latency_tolerance": "relaxed"})
    sandbox.simulator.set_traffic("tenant-nlp", d.name, "steady")
    for _ in range(2):
        sandbox.simulator.tick()
        sandbox.simulator.advance(30)
    sandbox.simulator.tick()
    status_sync()
    sample = StatusSample.objects.get(deployment=d)
    assert (sample.gpus_in_use, sample.gpu_class) == (0, "")
    assert (sample.vcpus_in_use, sample.memory_gi_in_use) == (Decimal(8), Decimal(16))   # 2 pods × (4 vCPU, 8 GiB)


def test_the_dashboard_burn_rate_counts_cpu_nodes(team, rate, login, owner):
    # 2 pods × (8 vCPU, 16 GiB) now: 16 × $0.01 + 32 × $0.005 = $0.32 an hour, for the row and the team.
    from deployments.selectors_dashboard import dashboard_read

    d = cpu_deployment(team, status=Status.RUNNING, total_pods=2, ready_pods=2)
    samples(d, timezone.now() - timedelta(minutes=3), 3, pods=2)
    view = dashboard_read(owner)
    row = next(r for r in view["rows"] if r.deployment.pk == d.pk)
    assert row.burn_usd_per_hour == Decimal("0.32")
    assert next(t for t in view["teams"] if t.team == team).burn_usd_per_hour == Decimal("0.32")
