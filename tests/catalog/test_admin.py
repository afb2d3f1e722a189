"""A price change in the console is history: usage after it costs the new price, usage before keeps the old."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import Event
from catalog.models import GpuClass, GpuPrice
from catalog.pricebook import gpu_price_at
from specs.vocabulary import Status
from spend.models import StatusSample
from spend.rollups import deployments_meter
from tests.admin_helpers import change_form_data
from tests.factories import DeploymentFactory

GPU = "A100_NVLINK_80GB"


def _price_change_in_admin(client, gpu, price):
    url = reverse("admin:catalog_gpuclass_change", args=[gpu.pk])
    data = change_form_data(client.get(url), price_per_gpu_hour=price, _save="Save")
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    return response


def test_price_change_writes_history_and_only_affects_usage_after_it(login, staff, team):
    gpu = GpuClass.objects.get(name=GPU)
    old_price = gpu.price_per_gpu_hour
    new_price = (old_price * 2).quantize(Decimal("0.0001"))
    now = timezone.now()
    deployment = DeploymentFactory(team=team, gpu_class=GPU, gpus_per_replica=2)
    StatusSample.objects.bulk_create(
        StatusSample(deployment=deployment, at=now + timedelta(minutes=m), status=Status.RUNNING,
                     ready_pods=1, total_pods=1, gpus_in_use=2)
        for m in range(-120, 121)
    )
    past = dict(start=now - timedelta(hours=2), end=now - timedelta(hours=1), now=now + timedelta(hours=3))
    future = dict(start=now + timedelta(minutes=30), end=now + timedelta(minutes=90), now=now + timedelta(hours=3))
    past_before = deployments_meter([deployment.pk], **past)[deployment.pk].cost_usd
    assert past_before == pytest.approx(old_price * 2, rel=Decimal("1e-6"))

    _price_change_in_admin(login(staff), gpu, str(new_price))

    gpu.refresh_from_db()
    assert gpu.price_per_gpu_hour == new_price  # what the catalog page and previews quote from now on
    assert gpu_price_at(GPU, now - timedelta(minutes=1)) == old_price
    assert gpu_price_at(GPU, timezone.now()) == new_price
    assert deployments_meter([deployment.pk], **past)[deployment.pk].cost_usd == past_before
    future_cost = deployments_meter([deployment.pk], **future)[deployment.pk].cost_usd
    assert future_cost == pytest.approx(new_price * 2, rel=Decimal("1e-6"))

    event = Event.objects.get(kind=Event.Kind.CATALOG)
    assert event.actor == staff and GPU in event.message
    assert event.data["diff"] == [{"field": "price_per_gpu_hour", "old": str(old_price), "new": str(new_price)}]


def test_price_history_is_shown_and_read_only(login, staff):
    gpu = GpuClass.objects.get(name=GPU)
    client = login(staff)
    _price_change_in_admin(client, gpu, "7.5000")
    page = client.get(reverse("admin:catalog_gpuclass_change", args=[gpu.pk]))
    assert "Price history" in page.text and "7.5000" in page.text
    rows = GpuPrice.objects.filter(gpu_class=gpu).count()
    # The history rows are not form fields: posting the page again cannot rewrite them.
    data = change_form_data(page, _save="Save")
    client.post(reverse("admin:catalog_gpuclass_change", args=[gpu.pk]), data)
    assert GpuPrice.objects.filter(gpu_class=gpu).count() == rows
    assert not any(k.startswith("prices-0-price") for k in data)


def test_first_change_of_a_class_without_history_keeps_past_prices(staff):
    from catalog.services import gpu_price_set

    gpu = GpuClass.objects.create(name="TEST_GPU", display_name="Test", vram_gb=24, price_per_gpu_hour="1.0000")
    before = timezone.now()
    gpu_price_set(user=staff, gpu_class=gpu, price="3.0000")
    assert gpu_price_at("TEST_GPU", before - timedelta(days=30)) == Decimal("1.0000")
    assert gpu_price_at("TEST_GPU", timezone.now()) == Decimal("3.0000")


def test_other_catalog_edits_are_audited(login, staff):
    gpu = GpuClass.objects.get(name=GPU)
    client = login(staff)
    url = reverse("admin:catalog_gpuclass_change", args=[gpu.pk])
    client.post(url, change_form_data(client.get(url), available=None, _save="Save"))
    gpu.refresh_from_db()
    assert gpu.available is False
    event = Event.objects.get(kind=Event.Kind.CATALOG)
    assert event.actor == staff and event.data["diff"] == [{"field": "available", "old": True, "new": False}]
    assert not GpuPrice.objects.filter(gpu_class=gpu, note__startswith="set by").exists()
