"""The catalog seeded by migration matches shared/reference/catalog-facts.md."""

from datetime import datetime, timezone
from decimal import Decimal

import pytest

from catalog.models import GpuClass, Region, StorageTier
from catalog.pricebook import gpu_price_at

pytestmark = pytest.mark.django_db


def test_every_documented_gpu_class_is_seeded_with_vram():
    vram = dict(GpuClass.objects.values_list("name", "vram_gb"))
    assert len(vram) == 16
    assert vram["H100_NVLINK_80GB"] == 80
    assert vram["A40"] == 48
    assert vram["RTX_A4000"] == 16
    assert vram["Quadro_RTX_4000"] == 8
    assert vram["H200"] == 141


def test_current_price_is_the_newest_known_price():
    price = dict(GpuClass.objects.values_list("name", "price_per_gpu_hour"))
    assert price["H100_NVLINK_80GB"] == Decimal("6.16")  # 2026-10 price page beats 2023 docs
    assert price["A100_NVLINK_80GB"] == Decimal("2.70")
    assert price["A40"] == Decimal("1.28")  # only the 2023 price is known
    assert price["L40S"] == Decimal("2.25")


def test_price_history_prices_the_past_at_the_old_price():
    in_2024 = datetime(2024, 6, 1, tzinfo=timezone.utc)
    in_2026 = datetime(2026, 11, 1, tzinfo=timezone.utc)
    assert gpu_price_at("H100_NVLINK_80GB", in_2024) == Decimal("4.78")
    assert gpu_price_at("H100_NVLINK_80GB", in_2026) == Decimal("6.16")


def test_nvlink_matches_the_table_in_catalog_facts():
    # shared/reference/catalog-facts.md, column "NVLink": PCIe cards with NVLink bridges are "pairs".
    table = {"H100_NVLINK_80GB": "yes", "H100_PCIE": "no", "A100_NVLINK_80GB": "yes", "A100_PCIE_80GB": "no",
             "A100_NVLINK": "yes", "A100_PCIE_40GB": "no", "A40": "pairs", "RTX_A6000": "pairs",
             "RTX_A5000": "pairs", "RTX_A4000": "no", "Tesla_V100_NVLINK": "yes", "Quadro_RTX_5000": "no",
             "Quadro_RTX_4000": "no", "L40": "no", "L40S": "no", "H200": "yes"}
    assert dict(GpuClass.objects.values_list("name", "nvlink")) == table
    linked = {g.name: g.max_gpus_per_replica for g in GpuClass.objects.all()}
    assert (linked["H200"], linked["RTX_A5000"], linked["L40S"]) == (8, 2, 1)


def test_nvlink_and_infiniband_flags():
    h100 = GpuClass.objects.get(name="H100_NVLINK_80GB")
    a40 = GpuClass.objects.get(name="A40")
    a4000 = GpuClass.objects.get(name="RTX_A4000")
    assert h100.infiniband and h100.multi_gpu_ok
    assert a40.nvlink == "pairs" and a40.max_gpus_per_replica == 2
    assert not a4000.multi_gpu_ok


def test_regions_offer_classes():
    codes = set(Region.objects.values_list("code", flat=True))
    assert {"ORD1", "LAS1", "LGA1", "US-EAST-01", "US-EAST-04", "US-WEST-01", "RNO2", "EU-SOUTH-03"} <= codes
    las1 = set(Region.objects.get(code="LAS1").gpu_classes.values_list("name", flat=True))
    assert "A100_NVLINK_80GB" in las1
    assert "H200" not in las1


def test_storage_tiers_and_their_guidance():
    tiers = {t.slug: t for t in StorageTier.objects.all()}
    assert list(tiers) == ["object", "accelerated-object", "nvme-pvc"]
    assert "Tensorizer" in tiers["accelerated-object"].best_for
    assert "same region" in tiers["nvme-pvc"].notes
