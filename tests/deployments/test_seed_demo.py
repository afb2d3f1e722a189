"""The demo team has room for the README's walk-through (issue 20): its create and PATCH are pushed,
not held for approval, on top of everything `make run` seeds (both clusters' demo deployments)."""

from decimal import Decimal

import pytest
from django.core.management import call_command

from teams.models import Team
from teams.services import token_create
from tests.readme_helpers import patch_example, spec_json, walkthrough_steps

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_api(dispatched, tmp_path, django_user_model):
    from rest_framework.test import APIClient

    call_command("seed_demo", "--second-cluster", str(tmp_path / "kubeconfig-b"))  # what `make run` seeds
    _, key = token_create(user=django_user_model.objects.get(username="demo"), name="readme")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_the_readme_patch_gives_the_status_the_readme_shows(demo_api, django_capture_on_commit_callbacks):
    steps = walkthrough_steps()
    patch, shown_phase, shown_revision = patch_example(steps)
    with django_capture_on_commit_callbacks(execute=True):
        created = demo_api.post("/api/v1/deployments/", spec_json(steps), format="json",
                                HTTP_IDEMPOTENCY_KEY="readme-1")
    assert created.status_code == 201, created.content
    assert created.json()["status"]["phase"] == "queued", created.json()["approval_reason"]

    with django_capture_on_commit_callbacks(execute=True):
        patched = demo_api.patch(f"/api/v1/deployments/{created.json()['id']}/", patch, format="json")

    assert patched.status_code == 200, patched.content
    body = patched.json()
    assert (body["status"]["phase"], body["revision"]) == (shown_phase, shown_revision), body["approval_reason"]
    assert body["approval_reason"] == ""


def test_seeding_raises_an_older_demo_teams_quota_and_keeps_a_larger_one(dispatched):
    Team.objects.create(slug="demo", name="Demo team", gpu_quota=16, monthly_budget_usd=5000)
    call_command("seed_demo", "--no-deployments")
    team = Team.objects.get(slug="demo")
    assert (team.gpu_quota, team.monthly_budget_usd) == (32, Decimal(10000))

    Team.objects.filter(slug="demo").update(gpu_quota=64)
    call_command("seed_demo", "--no-deployments")
    assert Team.objects.get(slug="demo").gpu_quota == 64
