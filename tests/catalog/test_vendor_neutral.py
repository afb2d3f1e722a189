"""The console is vendor-neutral (issue 20): the regions' help text and the seeded price notes say "the platform",
never a vendor's name; the endpoints and prices themselves stay as seeded."""

import importlib
import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.apps import apps
from django.urls import reverse

from catalog.models import CpuRate, GpuClass, GpuPrice, Region

pytestmark = pytest.mark.django_db
VENDOR = re.compile(r"coreweave", re.I)
migration = importlib.import_module("catalog.migrations.0008_vendor_neutral_text")


def test_the_region_form_explains_its_endpoints_without_a_vendor_name(login, staff):
    region = Region.objects.get(code="LAS1")
    page = login(staff).get(reverse("admin:catalog_region_change", args=[region.pk])).content.decode()
    assert "object storage endpoint that pods in this region read models from" in page
    assert "accelerated (cached, node-local) object storage endpoint" in page
    assert not VENDOR.search(page)
    assert region.object_endpoint in page  # the seeded value itself is kept


def test_the_seeded_price_notes_are_reworded_and_the_console_names_no_vendor(login, staff):
    a40 = GpuClass.objects.get(name="A40")
    # What 0002 and 0006 wrote (a database seeded before 0008, or re-seeded by the tests after a flush).
    old = GpuPrice.objects.create(gpu_class=a40, price_per_gpu_hour=Decimal("1.28"), note="CoreWeave docs, 2023-05",
                                  valid_from=datetime(2023, 5, 2, tzinfo=UTC))
    edited = GpuPrice.objects.create(gpu_class=a40, price_per_gpu_hour=Decimal("1.30"), note="CoreWeave quote #12",
                                     valid_from=datetime(2023, 6, 1, tzinfo=UTC))
    CpuRate.objects.update_or_create(valid_from=datetime(2023, 5, 1, tzinfo=UTC), defaults={
        "price_per_vcpu_hour": Decimal("0.01"), "price_per_gb_hour": Decimal("0.005"),
        "note": "CoreWeave docs, 2023-05 (catalog-facts.md)"})

    migration.notes_reword(apps, None)

    old.refresh_from_db()
    edited.refresh_from_db()
    assert old.note == "Platform docs, 2023-05" and old.price_per_gpu_hour == Decimal("1.28")
    assert edited.note == "CoreWeave quote #12"  # a note staff wrote is theirs: left alone
    edited.delete()
    client = login(staff)
    for url in (reverse("admin:catalog_gpuclass_change", args=[a40.pk]), reverse("admin:catalog_cpurate_changelist")):
        page = client.get(url).content.decode()
        assert "Platform docs, 2023-05" in page and not VENDOR.search(page), url
