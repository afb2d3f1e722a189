"""Seed the catalog from shared/reference/catalog-facts.md.

Prices: the 2023-05 CoreWeave docs figure and, where known, the 2026-10 public
price page figure, both kept as history; the newest one is the current price.
Which class sits in which region is not in the facts; the offerings below are a
plausible starting point that platform staff edit in the admin console.
"""

from datetime import datetime, timezone
from decimal import Decimal

from django.db import migrations

OLD = datetime(2023, 5, 1, tzinfo=timezone.utc)
NEW = datetime(2026, 10, 1, tzinfo=timezone.utc)

# name, display, vram, nvlink, infiniband, price 2023-05, price 2026-10
GPUS = [
    ("H100_NVLINK_80GB", "NVIDIA H100 HGX 80GB", 80, "yes", True, "4.78", "6.16"),
    ("H100_PCIE", "NVIDIA H100 PCIe 80GB", 80, "no", False, "4.25", None),
    ("A100_NVLINK_80GB", "NVIDIA A100 80GB HGX", 80, "yes", True, "2.21", "2.70"),
    ("A100_PCIE_80GB", "NVIDIA A100 80GB PCIe", 80, "no", False, "2.21", None),
    ("A100_NVLINK", "NVIDIA A100 40GB HGX", 40, "yes", True, "2.06", None),
    ("A100_PCIE_40GB", "NVIDIA A100 40GB PCIe", 40, "no", False, "2.06", None),
    ("A40", "NVIDIA A40", 48, "pairs", False, "1.28", None),
    ("RTX_A6000", "NVIDIA RTX A6000", 48, "pairs", False, "1.28", None),
    ("RTX_A5000", "NVIDIA RTX A5000", 24, "pairs", False, "0.77", None),
    ("RTX_A4000", "NVIDIA RTX A4000", 16, "no", False, "0.61", None),
    ("Tesla_V100_NVLINK", "NVIDIA Tesla V100 NVLink", 16, "yes", False, "0.80", None),
    ("Quadro_RTX_5000", "NVIDIA Quadro RTX 5000", 16, "no", False, "0.57", None),
    ("Quadro_RTX_4000", "NVIDIA Quadro RTX 4000", 8, "no", False, "0.24", None),
    ("L40", "NVIDIA L40", 48, "no", False, None, "1.25"),
    ("L40S", "NVIDIA L40S", 48, "no", False, None, "2.25"),
    ("H200", "NVIDIA H200 141GB", 141, "yes", True, None, "6.31"),
]

LEGACY = ["A100_NVLINK", "A100_PCIE_40GB", "A40", "RTX_A6000", "RTX_A5000", "RTX_A4000",
          "Tesla_V100_NVLINK", "Quadro_RTX_5000", "Quadro_RTX_4000", "A100_PCIE_80GB", "A100_NVLINK_80GB"]
REGIONS = [
    ("ORD1", "Chicago, IL", LEGACY + ["H100_PCIE"], 48),
    ("LAS1", "Las Vegas, NV", LEGACY + ["H100_NVLINK_80GB", "H100_PCIE"], 64),
    ("LGA1", "Weehawken, NJ", ["A40", "RTX_A6000", "RTX_A5000", "RTX_A4000", "Quadro_RTX_5000",
                               "Quadro_RTX_4000", "A100_PCIE_40GB"], 32),
    ("US-EAST-01", "US East 01", ["H100_NVLINK_80GB", "A100_NVLINK_80GB", "L40S", "L40"], 128),
    ("US-EAST-04", "US East 04", ["H100_NVLINK_80GB", "H200", "L40S"], 256),
    ("US-WEST-01", "US West 01", ["A100_NVLINK_80GB", "A40", "RTX_A5000", "L40"], 96),
    ("RNO2", "Reno, NV", ["H100_NVLINK_80GB", "H200", "A100_NVLINK_80GB"], 192),
    ("EU-SOUTH-03", "EU South 03", ["H100_NVLINK_80GB", "L40S", "A40"], 64),
]

TIERS = [
    ("object", "Object storage (S3-compatible)", "Smaller models and Tensorizer-serialized models",
     "Credentials come from a Kubernetes Secret. Cheapest per GB; fine when the model is small "
     "or serialized with Tensorizer.", "0.50", "0.06", 1),
    ("accelerated-object", "Accelerated object storage", "Larger models and model weights, especially with Tensorizer",
     "NVMe-backed caches near the racks make large Tensorizer checkpoints load in seconds.", "4.00", "0.06", 2),
    ("nvme-pvc", "All-NVMe network volume (PVC)", "Large models and datasets",
     "A PersistentVolumeClaim on block-nvme-<region> or shared-nvme-<region>; it must be in the "
     "same region as the pods. Plain Knative Services need a cluster feature flag to mount it.", "2.00", "0.07", 3),
]


def seed(apps, schema_editor):
    GpuClass = apps.get_model("catalog", "GpuClass")
    GpuPrice = apps.get_model("catalog", "GpuPrice")
    Region = apps.get_model("catalog", "Region")
    RegionOffering = apps.get_model("catalog", "RegionOffering")
    StorageTier = apps.get_model("catalog", "StorageTier")
    by_name = {}
    for name, display, vram, nvlink, ib, old, new in GPUS:
        current = Decimal(new or old)
        gpu = GpuClass.objects.create(
            name=name, display_name=display, vram_gb=vram, nvlink=nvlink, infiniband=ib,
            price_per_gpu_hour=current, available=True,
        )
        by_name[name] = gpu
        if old:
            GpuPrice.objects.create(gpu_class=gpu, price_per_gpu_hour=Decimal(old), valid_from=OLD,
                                    note="CoreWeave docs, 2023-05")
        if new:
            GpuPrice.objects.create(gpu_class=gpu, price_per_gpu_hour=Decimal(new), valid_from=NEW,
                                    note="Public price page, 2026-10")
    for code, label, classes, free in REGIONS:
        region = Region.objects.create(code=code, name=label)
        for gpu_name in classes:
            RegionOffering.objects.create(region=region, gpu_class=by_name[gpu_name], available_gpus=free)
    for slug, name, best, notes, gbps, price, pos in TIERS:
        StorageTier.objects.create(slug=slug, name=name, best_for=best, notes=notes, read_gbps=Decimal(gbps),
                                   price_per_gb_month=Decimal(price), position=pos)


def unseed(apps, schema_editor):
    for model in ("RegionOffering", "GpuPrice", "Region", "GpuClass", "StorageTier"):
        apps.get_model("catalog", model).objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]
