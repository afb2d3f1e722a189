"""The staff console (Django's admin) wears Gantry's header, colours and icon (templates/admin/base_site.html,
static/gantry/admin.css) and keeps every action and view it had."""

import re

import pytest
from django.contrib import admin
from django.urls import reverse

from formats.money import money
from tests.api_fixtures import stored_deployment

pytestmark = pytest.mark.django_db


def test_the_console_has_gantrys_header_navigation_icon_and_colours(login, staff):
    page = login(staff).get(reverse("admin:index")).content.decode()
    assert '<header class="topbar">' in page and re.search(r'href="/admin/"\s*aria-current="page">Admin', page)
    for name in ("Dashboard", "New deployment", "Catalog", "API tokens", "Fleet"):
        assert re.search(rf'<a href="[^"]+"\s*>{name}</a>', page), name
    assert 'rel="icon" href="/static/favicon.svg"' in page and 'href="/static/gantry/admin.css"' in page
    assert "Gantry platform console" in page and "Pending approvals" in page
    assert "dark_mode.css" not in page  # Gantry's pages are light; so is the console
    css = login(staff).get("/static/gantry/admin.css")
    assert b"--link-fg: #3451d1" in b"".join(css.streaming_content)  # Gantry's accent


def test_every_custom_action_and_view_is_still_offered(login, staff, team, owner):
    deployment = stored_deployment(team, created_by=owner)
    client = login(staff)
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        listing = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        assert listing.status_code == 200, opts.label
        for action in [a for a in model_admin.actions or () if isinstance(a, str)]:
            assert f'value="{action}"' in listing.content.decode(), (opts.label, action)
    actions = admin.site._registry[type(deployment)].actions
    change = client.get(reverse("admin:deployments_deployment_change", args=[deployment.pk])).content.decode()
    assert all(f'value="{a}"' in change for a in actions)  # on each deployment's page too
    create = client.get(reverse("admin:deployments_deployment_create_from_spec")).content.decode()
    assert '<header class="topbar">' in create and "Create from a spec" in create
    approve = client.post(reverse("admin:deployments_deployment_changelist"),
                          {"action": "approve", "_selected_action": [deployment.pk]}).content.decode()
    assert '<header class="topbar">' in approve and f"up to {money(deployment.monthly_max_usd)} a month" in approve
