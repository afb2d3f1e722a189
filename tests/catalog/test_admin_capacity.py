"""Staff set and clear a region's GPU override in the console; the cluster's report and its age are read-only."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import Event
from catalog.models import Region, RegionOffering
from tests.admin_helpers import change_form_data

pytestmark = pytest.mark.django_db


def _inline_index(page, gpu_class):
    forms = page.context["inline_admin_formsets"][0].formset.forms
    return next(i for i, form in enumerate(forms) if form.instance.gpu_class.name == gpu_class)


def test_staff_see_the_report_and_its_age_and_can_clear_the_override(login, staff):
    region = Region.objects.get(code="LAS1")
    RegionOffering.objects.filter(region=region, gpu_class__name="A40").update(
        override_gpus=64, reported_free=6, reported_at=timezone.now() - timedelta(minutes=5))
    client = login(staff)
    url = reverse("admin:catalog_region_change", args=[region.pk])

    page = client.get(url)
    assert "6, 5\xa0minutes ago" in page.text  # the report and its age, as text, not a field
    assert "64 (override)" in page.text  # staff's number counts while it is set
    index = _inline_index(page, "A40")
    data = change_form_data(page, _save="Save")
    assert f"offerings-{index}-reported_free" not in data and f"offerings-{index}-reported_at" not in data

    data[f"offerings-{index}-override_gpus"] = ""
    response = client.post(url, data)

    assert response.status_code == 302
    offering = RegionOffering.objects.get(region=region, gpu_class__name="A40")
    assert offering.override_gpus is None and (offering.available_gpus, offering.available_source) == (6, "reported")
    assert "6 (reported)" in client.get(url).text
    assert Event.objects.filter(kind=Event.Kind.CATALOG, actor=staff, message__contains="A40").exists()


def test_staff_set_an_override_over_the_report(login, staff):
    region = Region.objects.get(code="ORD1")
    RegionOffering.objects.filter(region=region).update(override_gpus=None, reported_free=0,
                                                        reported_at=timezone.now())
    client = login(staff)
    url = reverse("admin:catalog_region_change", args=[region.pk])
    page = client.get(url)
    index = _inline_index(page, "A40")

    response = client.post(url, change_form_data(page, **{f"offerings-{index}-override_gpus": "24"}, _save="Save"))

    assert response.status_code == 302
    offering = RegionOffering.objects.get(region=region, gpu_class__name="A40")
    assert (offering.available_gpus, offering.available_source, offering.reported_free) == (24, "override", 0)
