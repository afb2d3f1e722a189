"""A screenshot tour of every page, for a reviewer to look through: test-artifacts/screenshots/tour-NN-<page>.png.

`make screenshots` runs it with SCREENSHOT_TOUR=all: every page. `make test` runs the short tour (a few pages of
each kind) so that the tour keeps working. Either way a live server holds the demo data as `make run` seeds it
(`seed_demo`), its deployments pushed to the sandbox cluster and synced, some spend, a rejected request and a
wizard draft; Chromium visits each page as the demo user or as platform staff. Each stop checks what a person
would see first (its heading), that nothing it loads is missing (404) or failing (5xx), and that the browser
reports no error (a script the CSP blocked, a failed request).
"""

import importlib
import os
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from catalog.models import GpuClass, Region
from deployments.models import Deployment, Draft
from deployments.services import approvals
from deployments.services.lifecycle import deployment_create
from deployments.services.push import deployment_push
from deployments.services.sync import status_sync
from specs.vocabulary import Status
from spend.models import DailySpend, StatusSample
from teams.models import Team
from tests.deployments.test_sync import simulate

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(240)]
FULL = os.environ.get("SCREENSHOT_TOUR") == "all"


def _spend(deployment, days=5):
    """A few days of rolled-up spend and an hour of samples, as a team sees after a while."""
    today, now = timezone.now().date(), timezone.now()
    DailySpend.objects.bulk_create(
        DailySpend(deployment=deployment, team=deployment.team, day=today - timedelta(days=k), gpu_hours=Decimal(3 + k),
                   cost_usd=Decimal("2.70") * (3 + k), warm_cost_usd=Decimal("1.35")) for k in range(days))
    StatusSample.objects.bulk_create(
        StatusSample(deployment=deployment, at=now - timedelta(minutes=m), status=Status.RUNNING,
                     ready_pods=1 + (m // 20) % 3, total_pods=1 + (m // 20) % 3, gpus_in_use=1 + (m // 20) % 3)
        for m in range(1, 55))


@pytest.fixture
def demo_site(sandbox, sandbox_kubeconfig, live_server, dispatched):
    """`make run`'s demo: seeded, pushed to the sandbox and synced; with spend, a rejected request and a draft."""
    # The catalog as `migrate` leaves it: the tests' re-seed after a flush replays 0002's seed but not 0008's notes.
    importlib.import_module("catalog.migrations.0008_vendor_neutral_text").notes_reword(apps, None)
    call_command("seed_demo")
    users = get_user_model().objects
    demo, staff = users.get(username="demo"), users.get(username="admin")
    team = Team.objects.get(slug="demo")
    sandbox.simulator.set_traffic("tenant-demo", "chat", "steady")
    for deployment in Deployment.objects.filter(team=team):
        assert deployment_push(deployment_id=deployment.pk, revision=1), deployment
    simulate(sandbox, seconds=60, steps=3)
    status_sync()
    chat = Deployment.objects.get(team=team, name="chat")
    _spend(chat)
    huge = deployment_create(user=demo, spec={
        "name": "huge-model", "team": "demo", "workload": "online",
        "runtime": {"image": "ghcr.io/acme/llm-server:1.4"},
        "model": {"uri": "s3://models/llama-3-70b/model.tensors", "parameters_billions": 70, "precision": "bf16",
                  "format": "tensorizer"},
        "storage": {"credentials_secret": "s3-creds"}, "scaling": {"min_replicas": 1, "max_replicas": 40}})
    assert huge.status == Status.PENDING_APPROVAL, huge.status
    approvals.deployment_reject(user=staff, deployment=huge, reason="The team's quota is for the demo services; "
                                "ask again with at most 4 replicas.")
    draft = Draft.objects.create(user=demo, team=team, step=6, data={
        "name": "summarizer", "team": "demo", "workload": "online", "target": "knative",
        "runtime": {"image": "ghcr.io/acme/llm-server:1.4"},
        "model": {"uri": "s3://models/llama-3-8b/model.tensors", "parameters_billions": 8, "precision": "bf16",
                  "format": "tensorizer"},
        "storage": {"credentials_secret": "s3-creds"}, "scaling": {"min_replicas": 0, "max_replicas": 2},
        "models_per_gpu": 1})
    named = {d.name: d for d in Deployment.objects.filter(team=team)}
    return {"demo": demo, "staff": staff, "draft": draft, **named}


def _stops(site):
    """(name, who, path, its heading (or button), in the short tour): every page, in the order a newcomer meets
    them."""
    draft, chat = site["draft"], site["chat"]
    a100, las1 = GpuClass.objects.get(name="A100_NVLINK_80GB"), Region.objects.get(code="LAS1")
    wizard = [(f"wizard-{n}", "demo", f"/drafts/{draft.pk}/step/{n}/", r"^Step \d of 6", n == 1) for n in range(1, 6)]
    return [
        ("login", None, "/login/", r"Sign in|Log in", True),
        ("dashboard", "demo", "/", r"Dashboard|Deployments", True),
        *wizard,
        ("wizard-review", "demo", f"/drafts/{draft.pk}/step/6/", r"^Step 6 of 6|Review", True),
        ("deployment-online", "demo", f"/deployments/{chat.pk}/", r"chat", True),
        ("deployment-kserve", "demo", f"/deployments/{site['sentiment'].pk}/", r"sentiment", False),
        ("deployment-scaled-to-zero", "demo", f"/deployments/{site['embeddings'].pk}/", r"embeddings", False),
        ("deployment-batch", "demo", f"/deployments/{site['nightly-batch'].pk}/", r"nightly-batch", True),
        ("deployment-rejected", "demo", f"/deployments/{site['huge-model'].pk}/", r"huge-model", False),
        ("catalog", "demo", "/catalog/", r"Catalog|GPU", False),
        ("tokens", "demo", "/tokens/", r"API tokens|token", False),
        ("notifications-mine", "demo", "/notifications/", r"Notifications|notifications", False),
        ("notifications-team", "demo", "/teams/demo/notifications/", r"Notifications|notifications", False),
        ("api-docs", "demo", "/api/docs/", r"API documentation", True),
        ("admin-login", None, "/admin/login/", r"^Log in$", False),
        ("fleet", "staff", "/fleet/", r"Fleet", False),
        ("admin-index", "staff", "/admin/", r"Platform console|Site administration", True),
        ("admin-deployments", "staff", "/admin/deployments/deployment/", r"deployment", False),
        ("admin-deployment", "staff", f"/admin/deployments/deployment/{chat.pk}/change/", r"chat", False),
        ("admin-create-from-spec", "staff", "/admin/deployments/deployment/create/", r"Create a deployment", False),
        ("admin-audit-log", "staff", "/admin/audit/event/", r"event", True),
        ("admin-gpu-class", "staff", f"/admin/catalog/gpuclass/{a100.pk}/change/", r"A100", False),
        ("admin-region", "staff", f"/admin/catalog/region/{las1.pk}/change/", r"LAS1", False),
        ("admin-teams", "staff", "/admin/teams/team/", r"team", False),
    ]


def test_every_page_in_the_tour_renders_and_is_photographed(demo_site, page, browser_login, live_server, screenshot):
    stops = [s for s in _stops(demo_site) if FULL or s[4]]
    problems, who_now = [], "nobody"
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status == 404 or r.status >= 500
            else None)
    page.on("console", lambda m: problems.append(f"console: {m.text}") if m.type == "error" else None)
    for number, (name, who, path, heading, _short) in enumerate(stops, 1):
        if who != who_now:
            page.context.clear_cookies()
            if who:
                browser_login(demo_site[who])
            who_now = who
        page.goto(live_server.url + path)
        title = re.compile(heading, re.I)
        first_seen = page.get_by_role("heading", name=title).or_(page.get_by_role("button", name=title)).first
        expect(first_seen).to_be_visible()
        if name == "api-docs":
            expect(page.locator(".opblock").first).to_be_visible()  # Swagger UI drew the operations
        page.wait_for_load_state("networkidle")
        screenshot(f"tour-{number:02d}-{name}")
        assert not problems, (name, problems)
