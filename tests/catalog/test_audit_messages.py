"""Prices in the catalog's audit messages and console columns are written like everywhere else ($2.21, $0.0125,
"5 Mar 2025, 14:03 UTC"), not as raw decimals ("$2.2100")."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from audit.models import Event
from catalog.models import CpuRate, GpuClass
from catalog.services import gpu_price_set
from formats.money import money_rate

pytestmark = pytest.mark.django_db
AT = datetime(2025, 3, 5, 14, 3, tzinfo=UTC)


def test_a_price_change_is_audited_in_the_money_and_time_formats(staff):
    a40 = GpuClass.objects.get(name="A40")
    GpuClass.objects.filter(pk=a40.pk).update(price_per_gpu_hour=Decimal("1.2800"))
    gpu_price_set(user=staff, gpu_class=a40, price="1.5", valid_from=AT)
    event = Event.objects.filter(kind=Event.Kind.CATALOG).latest("pk")
    assert event.message == "A40 price $1.28/GPU-hour → $1.50/GPU-hour from 5 Mar 2025, 14:03 UTC"
    assert str(a40.prices.get(valid_from=AT)) == "A40 $1.50/GPU-hour from 5 Mar 2025"


def test_a_cpu_rate_added_in_the_console_is_named_in_the_money_format(login, staff):
    rate = CpuRate.objects.create(price_per_vcpu_hour=Decimal("0.0125"), price_per_gb_hour=Decimal("0.005"),
                                  valid_from=AT)
    assert str(rate) == "$0.0125/vCPU-hour, $0.005/GB-hour from 5 Mar 2025"
    page = login(staff).get(reverse("admin:catalog_cpurate_changelist")).content.decode()
    assert 'field-vcpu_price">$0.0125<' in page and 'field-gb_price">$0.005<' in page


def test_console_price_columns_use_the_money_format(login, staff):
    a40 = GpuClass.objects.get(name="A40")
    client = login(staff)
    listing = client.get(reverse("admin:catalog_gpuclass_changelist")).content.decode()
    assert f'field-price">{money_rate(a40.price_per_gpu_hour)}<' in listing
    history = client.get(reverse("admin:catalog_gpuclass_change", args=[a40.pk])).content.decode()
    assert "<p>$1.28</p>" in history and "1.2800" not in history.split('id="prices-group"')[-1]
    tiers = client.get(reverse("admin:catalog_storagetier_changelist")).content.decode()
    assert 'field-price">$0.06<' in tiers
