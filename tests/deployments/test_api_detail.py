"""The detail response built from serializers made once per process (deployments/api/detail.py) renders
byte for byte what DeploymentDetailSerializer renders for the same deployment and spend."""

from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.renderers import JSONRenderer

from deployments.api.detail import deployment_detail_data
from deployments.api.serializers import DeploymentDetailSerializer
from deployments.models import Deployment
from deployments.services import lifecycle
from spend.models import DailySpend
from spend.selectors import deployment_spend_summary
from specs.vocabulary import Status, Target, Workload
from tests.factories import DeploymentFactory, batch_spec, online_spec

pytestmark = pytest.mark.django_db


@pytest.fixture
def varied(team, deployer):
    """Completed specs as a create stores them (every field the recommender fills), raw ones without those
    fields, a deployment without a revision, spend this month and none."""
    team.gpu_quota = 100
    team.save()
    created = [
        lifecycle.deployment_create(user=deployer, spec=online_spec(name="knative-online")),
        lifecycle.deployment_create(user=deployer, spec=online_spec(name="kserve-online", target="kserve")),
        lifecycle.deployment_create(user=deployer, spec=batch_spec(name="nightly")),
    ]
    raw = [
        DeploymentFactory(team=team, name="raw-running", status=Status.RUNNING, url="http://raw.example",
                          ready_pods=1, total_pods=1, gpus_in_use=1, applied_revision=1,
                          last_synced_at=timezone.now()),
        DeploymentFactory(team=team, name="raw-batch", workload=Workload.BATCH, target=Target.ARGO,
                          revision=batch_spec(name="raw-batch")),
        DeploymentFactory(team=team, name="no-revision", gpu_class="", region=""),
    ]
    Deployment.objects.filter(pk=raw[2].pk).update(current_revision=None)
    DailySpend.objects.create(deployment=raw[0], team=team, day=date.today(), cost_usd=Decimal("12.345678"),
                              warm_cost_usd=Decimal("0.5"), gpu_hours=Decimal("3"))
    return [d.pk for d in created + raw]


def _rendered(data):
    return JSONRenderer().render(data)


def test_the_detail_renders_exactly_as_the_detail_serializer(varied):
    for pk in varied:
        deployment = Deployment.objects.select_related("team", "current_revision").get(pk=pk)
        for spend in (deployment_spend_summary(deployment=deployment), None):
            full = DeploymentDetailSerializer(deployment, context={"spend": spend}).data
            fast = deployment_detail_data(deployment, spend)
            assert _rendered(fast) == _rendered(full), deployment.name


def test_the_api_detail_carries_the_spec_and_the_spend(api, owner, varied):
    running = Deployment.objects.get(name="raw-running")
    body = api(owner).get(f"/api/v1/deployments/{running.pk}/").json()
    assert body["spec"]["runtime"]["image"] == "ghcr.io/acme/llm-server:1.4"
    assert body["spend"]["month_usd"] == 12.35 and body["spend"]["currency"] == "USD"
    bare = Deployment.objects.get(name="no-revision")
    assert api(owner).get(f"/api/v1/deployments/{bare.pk}/").json()["spec"] is None
