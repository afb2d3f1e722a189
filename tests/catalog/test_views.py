import pytest

pytestmark = pytest.mark.django_db


def test_catalog_page_lists_classes_prices_regions_and_tiers(login, viewer):
    page = login(viewer).get("/catalog/").content.decode()
    assert "H100_NVLINK_80GB" in page and "80 GB" in page and "$6.16" in page
    assert "NVLink bridge (pairs)" in page  # A40
    assert "Accelerated object storage" in page and "Tensorizer" in page
    assert "LAS1" in page


def test_catalog_page_needs_login(client):
    response = client.get("/catalog/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=/catalog/")


def test_login_page_and_login_flow(client, viewer):
    assert "Log in to Gantry" in client.get("/login/").content.decode()
    response = client.post("/login/", {"username": "vic-viewer", "password": "pw-for-tests-1"})
    assert response.status_code == 302
    assert "vic-viewer" in client.get("/catalog/").content.decode()


def test_wrong_password_is_refused(client, viewer):
    response = client.post("/login/", {"username": "vic-viewer", "password": "nope"})
    assert "didn&#x27;t match" in response.content.decode() or "didn't match" in response.content.decode()


def test_login_is_throttled_after_repeated_failures(client, viewer, settings):
    from django.core.cache import cache

    cache.delete_many(["login-fail:user:vic-viewer", "login-fail:addr:127.0.0.1"])
    settings.LOGIN_FAILURE_LIMIT = 3
    for _ in range(3):
        assert client.post("/login/", {"username": "vic-viewer", "password": "wrong"}).status_code == 200
    locked = client.post("/login/", {"username": "vic-viewer", "password": "pw-for-tests-1"})
    assert locked.status_code == 429
    assert "Too many failed attempts" in locked.content.decode()
    cache.delete_many(["login-fail:user:vic-viewer", "login-fail:addr:127.0.0.1"])


def test_catalog_page_says_what_the_five_seconds_are_and_shows_the_wizards_estimates(login, viewer):
    # The wizard's own arithmetic (specs/recommend.py cold_start_seconds) for Llama 3 8B, Tensorizer, bf16.
    from catalog.selectors import catalog_snapshot
    from specs.recommend import cold_start_seconds

    model = {"parameters_billions": 8, "precision": "bf16", "format": "tensorizer"}
    low, high = cold_start_seconds({"model": model, "storage": {"tier": "accelerated-object"}}, catalog_snapshot())
    page = login(viewer).get("/catalog/").content.decode()
    note = page.split('id="tensorizer-note"')[1].split("</p>")[0]
    assert "warm cache" in note and "10–30 s" in note
    row = page.split('id="load-estimates"')[1].split("Llama 3 8B (16 GB)")[1].split("</tr>")[0]
    assert f"{low}–{high} s" in row and high > 5  # a cold start is longer than the five seconds


def test_catalog_page_shows_the_cpu_rate_in_force_and_when_cpu_nodes_suffice(login, viewer):
    from datetime import timedelta
    from decimal import Decimal

    from django.utils import timezone

    from catalog.models import CpuRate

    now = timezone.now()
    CpuRate.objects.create(valid_from=now - timedelta(days=1), price_per_vcpu_hour=Decimal("0.012"),
                           price_per_gb_hour=Decimal("0.006"))
    CpuRate.objects.create(valid_from=now + timedelta(days=30), price_per_vcpu_hour=Decimal("0.5"),
                           price_per_gb_hour=Decimal("0.5"))  # announced, not in force yet
    page = login(viewer).get("/catalog/").content.decode()
    panel = page.split('id="cpu-nodes"')[1].split("</div>")[0]
    rate = panel.split('id="cpu-rate"')[1].split("</tr>")[0]
    assert "$0.012" in rate and "$0.006" in rate and "$0.500" not in panel
    # specs/cpu.py's threshold: 2 GB of weights is 1B in bf16, 2B in int8, 4B in int4, relaxed latency only.
    assert "1B in bf16, 2B in int8, 4B in int4" in panel and "relaxed latency tolerance" in panel
    assert "latency_tolerance" not in panel and "compute.accelerator" not in panel  # no spec paths on a page
    # A typical replica, priced as the estimate prices it: 8 vCPU × $0.012 + 8 GiB × $0.006 = $0.144 -> $0.14.
    assert "8 vCPU at $0.012/vCPU-hour + 8 GiB at $0.006/GB-hour = $0.14/hour" in panel


def test_catalog_page_without_a_cpu_rate_says_so(login, viewer):
    from catalog.models import CpuRate

    CpuRate.objects.all().delete()
    page = login(viewer).get("/catalog/").content.decode()
    assert "CPU nodes have no rate in the catalog yet" in page.split('id="cpu-nodes"')[1].split("</div>")[0]
