"""Free GPUs of an offering, one rule: staff's override when set, else the cluster's report, else the default."""

import pytest
from django.utils import timezone

from catalog.models import DEFAULT_FREE_GPUS, RegionOffering

pytestmark = pytest.mark.django_db


def _offering(gpu_class="A40", region="LAS1"):
    return RegionOffering.objects.get(gpu_class__name=gpu_class, region__code=region)


def test_the_override_wins_then_the_report_then_the_default():
    offering = _offering()
    offering.override_gpus, offering.reported_free, offering.reported_at = None, None, None
    assert (offering.available_gpus, offering.available_source) == (DEFAULT_FREE_GPUS, "default")

    offering.reported_free, offering.reported_at = 5, timezone.now()
    assert (offering.available_gpus, offering.available_source) == (5, "reported")

    offering.override_gpus = 0  # zero is a number staff typed, not "no override"
    assert (offering.available_gpus, offering.available_source) == (0, "override")


def test_the_seeds_numbers_are_estimates_that_a_cluster_report_replaces_not_overrides():
    # The seed gave 192 for RNO2 and 256 for US-EAST-04 (catalog/migrations/0002): no staff typed them.
    rno2 = _offering("H200", "RNO2")
    assert (rno2.override_gpus, rno2.reported_free, rno2.reported_at) == (None, 192, None)
    assert (_offering("H200", "US-EAST-04").available_gpus, rno2.available_source) == (256, "reported")
    assert not RegionOffering.objects.filter(override_gpus__isnull=False).exists()


def test_the_migration_keeps_a_number_staff_typed_as_an_override_and_frees_the_seeds():
    import importlib

    from django.apps import apps

    migration = importlib.import_module("catalog.migrations.0007_offering_capacity_reports")
    typed, seeded = _offering("H200", "RNO2"), _offering("H200", "US-EAST-04")
    RegionOffering.objects.filter(pk=typed.pk).update(override_gpus=7, reported_free=None)
    RegionOffering.objects.filter(pk=seeded.pk).update(override_gpus=256, reported_free=None)

    migration.seed_estimates_to_reports(apps, None)

    typed.refresh_from_db()
    seeded.refresh_from_db()
    assert (typed.override_gpus, typed.available_gpus) == (7, 7)
    assert (seeded.override_gpus, seeded.reported_free) == (None, 256)
