"""The cached catalog snapshot: a price staff set reaches the very next preview and create."""

import threading
from decimal import Decimal
from unittest import mock

import pytest
from django.core.cache import cache

from catalog.cache import version_pin_begin, version_pin_end
from catalog.models import GpuClass, Region
from catalog.services import gpu_price_set
from deployments.services import lifecycle
from deployments.services.preview import deployment_preview
from tests.factories import online_spec


def _pinned_spec(**overrides):
    """A spec on one GPU class, so a new price changes its cost rather than the class the recommender picks."""
    first = deployment_preview(spec=online_spec(**overrides))
    assert not first["errors"], first["errors"]
    gpu = GpuClass.objects.get(name=first["spec"]["compute"]["gpu_class"])
    return online_spec(**overrides, compute={"region": "LAS1", "gpu_class": gpu.name}), gpu


def _per_hour(spec):
    preview = deployment_preview(spec=spec)
    assert not preview["errors"], preview["errors"]
    return Decimal(str(preview["cost"]["per_hour_max"]))


@pytest.mark.django_db
def test_a_price_staff_set_reaches_the_next_preview_and_create(team, deployer, staff):
    spec, gpu = _pinned_spec()
    before = _per_hour(spec)  # the snapshot is cached now
    gpu_price_set(user=staff, gpu_class=gpu, price=gpu.price_per_gpu_hour * 2)
    assert _per_hour(spec) == before * 2
    deployment = lifecycle.deployment_create(user=deployer, spec=spec)
    assert deployment.monthly_max_usd == Decimal(str(deployment_preview(spec={**spec, "name": "again"})
                                                     ["cost"]["per_month_max"]))
    assert deployment.current_revision.spec["compute"]["gpu_class"] == gpu.name


@pytest.mark.django_db(transaction=True)
def test_a_committed_price_change_reaches_every_later_request(team, staff):
    # Real commits: the change is seen through the cache's new version, not by bypassing the cache.
    spec, gpu = _pinned_spec()
    before = _per_hour(spec)
    assert _per_hour(spec) == before  # served from the cache
    gpu_price_set(user=staff, gpu_class=gpu, price=gpu.price_per_gpu_hour * 3)
    assert _per_hour(spec) == before * 3


@pytest.mark.django_db
def test_staff_edits_to_a_region_reach_the_next_preview(team):
    spec = online_spec(storage={"tier": "accelerated-object", "credentials_secret": "s3-creds"})
    assert deployment_preview(spec=spec)["spec"]["storage"]["endpoint"] != "http://cache.las1.example:9000"
    region = Region.objects.get(code="LAS1")
    region.accelerated_endpoint = "http://cache.las1.example:9000"
    region.save()
    assert deployment_preview(spec=spec)["spec"]["storage"]["endpoint"] == "http://cache.las1.example:9000"


@pytest.mark.django_db
def test_without_the_cache_previews_read_the_database(team):
    spec, gpu = _pinned_spec()
    with mock.patch.object(cache, "get", side_effect=ConnectionError("redis down")):
        preview = deployment_preview(spec=spec)
    assert not preview["errors"] and preview["spec"]["compute"]["gpu_class"] == gpu.name


@pytest.mark.django_db(transaction=True)
def test_which_cluster_serves_a_region_follows_committed_changes_and_costs_no_query(tmp_path,
                                                                                   django_assert_num_queries):
    from clusters.models import Cluster
    from clusters.selectors import cluster_for_region

    assert cluster_for_region("LAS1") is None  # no records: the default cluster
    las = Cluster.objects.create(name="las", kubeconfig_path=str(tmp_path / "las"))
    las.regions.set([Region.objects.get(code="LAS1")])
    assert cluster_for_region("LAS1").name == "las"
    with django_assert_num_queries(0):  # every push asks: answered from the kept routes
        assert cluster_for_region("LAS1").name == "las"
    other = Cluster.objects.create(name="other", kubeconfig_path=str(tmp_path / "other"))
    las.regions.remove(Region.objects.get(code="LAS1"))
    other.regions.add(Region.objects.get(code="LAS1"))
    assert cluster_for_region("LAS1").name == "other"
    other.enabled = False
    other.save()
    assert cluster_for_region("LAS1") is None


@pytest.mark.django_db(transaction=True)
def test_the_dashboards_burn_follows_a_committed_price_change(team, owner, staff):
    from deployments.selectors_dashboard import dashboard_read
    from tests.factories import DeploymentFactory

    gpu = GpuClass.objects.get(name="A100_NVLINK_80GB")
    DeploymentFactory(team=team, name="burning", gpu_class=gpu.name, gpus_in_use=2)
    first = dashboard_read(owner)["rows"][0].burn_usd_per_hour
    assert first == (2 * gpu.price_per_gpu_hour).quantize(Decimal("0.01"))
    assert dashboard_read(owner)["rows"][0].burn_usd_per_hour == first  # the price book kept
    gpu_price_set(user=staff, gpu_class=gpu, price=gpu.price_per_gpu_hour * 2)
    assert dashboard_read(owner)["rows"][0].burn_usd_per_hour == 2 * first


def _price_set_in_another_worker(user, gpu, price):
    """What another gunicorn or Celery process does: its own thread-local state and database connection."""
    from django.db import connection

    def run():
        try:
            gpu_price_set(user=user, gpu_class=gpu, price=price)
        finally:
            connection.close()

    worker = threading.Thread(target=run)
    worker.start()
    worker.join(timeout=30)
    assert not worker.is_alive()


@pytest.mark.django_db(transaction=True)
def test_one_answer_prices_with_one_catalog_and_the_next_sees_another_workers_change(team, staff):
    spec, gpu = _pinned_spec()
    version_pin_begin()  # a request or task starts (catalog/apps.py, portal/celery.py)
    try:
        before = _per_hour(spec)
        _price_set_in_another_worker(staff, gpu, gpu.price_per_gpu_hour * 2)
        assert _per_hour(spec) == before  # the same catalog throughout one answer
    finally:
        version_pin_end()
    version_pin_begin()
    try:
        assert _per_hour(spec) == before * 2  # the next request or task
    finally:
        version_pin_end()


@pytest.mark.django_db(transaction=True)
def test_a_change_committed_in_a_request_is_seen_by_the_rest_of_it(team, staff):
    spec, gpu = _pinned_spec()
    version_pin_begin()
    try:
        before = _per_hour(spec)
        gpu_price_set(user=staff, gpu_class=gpu, price=gpu.price_per_gpu_hour * 3)
        assert _per_hour(spec) == before * 3
    finally:
        version_pin_end()
