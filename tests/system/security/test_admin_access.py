"""Only platform staff reach the console and the fleet page."""

import pytest
from django.urls import reverse

ADMIN_PAGES = ["admin:index", "admin:deployments_deployment_changelist", "admin:audit_event_changelist",
               "admin:catalog_gpuclass_changelist", "admin:teams_team_changelist"]


@pytest.mark.parametrize("persona", ["owner", "viewer", "outsider"])
def test_members_are_sent_to_the_admin_login(request, login, persona):
    client = login(request.getfixturevalue(persona))
    for name in ADMIN_PAGES:
        response = client.get(reverse(name))
        assert response.status_code == 302, name
        assert response["Location"].startswith(reverse("admin:login")), name


def test_anonymous_is_sent_to_login_everywhere(client, db):
    for name in ADMIN_PAGES:
        assert reverse("admin:login") in client.get(reverse(name))["Location"]
    response = client.get(reverse("fleet"))
    assert response.status_code == 302 and reverse("login") in response["Location"]


@pytest.mark.parametrize("persona", ["owner", "viewer", "outsider"])
def test_fleet_page_is_not_found_for_non_staff(request, login, persona):
    response = login(request.getfixturevalue(persona)).get(reverse("fleet"))
    assert response.status_code == 404


def test_staff_reach_the_console_with_its_header(login, staff):
    client = login(staff)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    assert "Gantry platform console" in response.text
    assert "Pending approvals" in response.text
    for name in ADMIN_PAGES[1:]:
        assert client.get(reverse(name)).status_code == 200, name
    assert client.get(reverse("fleet")).status_code == 200


def test_every_console_page_renders_for_staff(login, staff, team, owner):
    from audit.models import Event
    from catalog.models import GpuClass, Region, StorageTier
    from tests.factories import DeploymentFactory

    deployment = DeploymentFactory(team=team, name="chat")
    event = Event.objects.create(deployment=deployment, team=team, kind=Event.Kind.ADMIN, actor=staff, message="x")
    client = login(staff)
    pages = [
        reverse("admin:catalog_gpuclass_change", args=[GpuClass.objects.first().pk]),
        reverse("admin:catalog_region_change", args=[Region.objects.first().pk]),
        reverse("admin:catalog_region_changelist"),
        reverse("admin:catalog_storagetier_change", args=[StorageTier.objects.first().pk]),
        reverse("admin:teams_team_change", args=[team.pk]),
        reverse("admin:teams_team_add"),
        reverse("admin:deployments_deployment_change", args=[deployment.pk]),
        reverse("admin:audit_event_change", args=[event.pk]),
        reverse("admin:audit_event_changelist") + f"?deployment__id__exact={deployment.pk}",
    ]
    for url in pages:
        assert client.get(url).status_code == 200, url
