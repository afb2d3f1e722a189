"""CPU node rates (migration 0006): seeded from catalog-facts.md, history like GPU prices, editable and audited."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from audit.models import Event
from catalog.models import CpuRate
from catalog.pricebook import cpu_rate_at
from catalog.selectors import catalog_snapshot
from catalog.snapshot import CpuPrice

pytestmark = pytest.mark.django_db


def test_seeded_rates_are_the_documented_ones_and_the_snapshot_carries_them():
    # catalog-facts.md: $0.01 per vCPU-hour and $0.005 per GB-hour of RAM (CoreWeave docs, 2023).
    (rate,) = CpuRate.objects.all()
    assert (rate.price_per_vcpu_hour, rate.price_per_gb_hour) == (Decimal("0.01"), Decimal("0.005"))
    assert catalog_snapshot().cpu == CpuPrice(Decimal("0.01"), Decimal("0.005"))


def test_the_newest_rate_in_force_prices_and_a_future_one_waits():
    now = timezone.now()
    CpuRate.objects.create(valid_from=now - timedelta(days=1), price_per_vcpu_hour=Decimal("0.02"),
                           price_per_gb_hour=Decimal("0.004"))
    CpuRate.objects.create(valid_from=now + timedelta(days=30), price_per_vcpu_hour=Decimal("0.05"),
                           price_per_gb_hour=Decimal("0.01"))
    assert catalog_snapshot().cpu == CpuPrice(Decimal("0.02"), Decimal("0.004"))
    assert cpu_rate_at(now - timedelta(days=2)).price_per_vcpu_hour == Decimal("0.01")  # the seeded one
    assert cpu_rate_at(now + timedelta(days=31)).price_per_vcpu_hour == Decimal("0.05")


def test_without_a_rate_cpu_specs_are_refused_not_priced_at_zero(team):
    from tests.factories import online_spec
    from tests.spec_helpers import validate

    CpuRate.objects.all().delete()
    assert catalog_snapshot().cpu is None
    spec = online_spec(compute={"accelerator": "cpu", "region": "LAS1"})
    assert [(e.code, e.field) for e in validate(spec).errors] == [("invalid_value", "compute.accelerator")]


def test_staff_add_a_rate_in_the_console_and_it_is_audited(login, staff):
    response = login(staff).post("/admin/catalog/cpurate/add/", {
        "price_per_vcpu_hour": "0.012", "price_per_gb_hour": "0.006",
        "valid_from_0": "2030-01-01", "valid_from_1": "00:00:00", "note": "new price list"})
    assert response.status_code == 302, response.content[:500]
    assert CpuRate.objects.filter(price_per_vcpu_hour=Decimal("0.012")).exists()
    assert Event.objects.filter(kind="catalog", message__contains="CPU rate").exists()
