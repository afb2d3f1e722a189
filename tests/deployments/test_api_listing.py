"""The deployment list built from plain rows answers exactly what DeploymentSerializer answers for the same rows."""

import json
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from deployments.api.listing import deployment_list_items
from deployments.api.serializers import DeploymentSerializer
from deployments.models import Deployment
from deployments.selectors import deployments_for_user
from deployments.selectors_list import LIST_COLUMNS, deployments_listed
from specs.vocabulary import Status, Target, Workload
from tests.factories import DeploymentFactory, MembershipFactory

pytestmark = pytest.mark.django_db

ORDER = ("team__slug", "name", "pk")


@pytest.fixture
def varied(team, other_team, owner):
    """Rows that take every branch of the serializer: final or not, zero pods, no URL, no revision, nulls."""
    MembershipFactory(user=owner, team=other_team)  # two teams: the scope must not repeat or lose rows
    synced = datetime(2026, 11, 30, 23, 59, 58, 123456, tzinfo=UTC)
    rows = [
        DeploymentFactory(team=team, name="a-running", status=Status.RUNNING, url="http://a.example", ready_pods=2,
                          total_pods=3, last_synced_at=synced, applied_revision=1),
        DeploymentFactory(team=team, name="b-zero", status=Status.SCALED_TO_ZERO, last_synced_at=synced),
        DeploymentFactory(team=team, name="c-failed", status=Status.FAILED, status_message="ImagePullBackOff: no",
                          gpu_class="", region=""),
        DeploymentFactory(team=other_team, name="d-batch", workload=Workload.BATCH, target=Target.ARGO,
                          status=Status.PENDING_APPROVAL, approval_reason="Over budget: $5 left", gpus_per_replica=4),
        DeploymentFactory(team=other_team, name="e-deleted", status=Status.DELETED),
    ]
    Deployment.objects.filter(pk=rows[2].pk).update(current_revision=None)  # a row with no revision at all
    return rows


def _full(user, **filters):
    rows = deployments_for_user(user).filter(**filters).order_by(*ORDER)
    return json.loads(json.dumps(DeploymentSerializer(rows, many=True).data))


def _fast(user, **filters):
    rows = deployments_listed(user).filter(**filters).order_by(*ORDER).values(*LIST_COLUMNS)
    return json.loads(json.dumps(deployment_list_items(rows)))


@pytest.mark.parametrize("persona", ["owner", "viewer", "outsider", "staff"])
def test_the_fast_list_equals_the_full_serializer_for_the_same_rows(request, varied, persona):
    user = request.getfixturevalue(persona)
    fast, full = _fast(user), _full(user)
    assert fast == full
    assert [list(item) for item in fast] == [list(item) for item in full]  # keys in the same order too
    assert [list(item["status"]) for item in fast] == [list(item["status"]) for item in full]


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/Los_Angeles"])
def test_in_a_portal_not_on_utc_the_fast_list_writes_the_times_the_serializer_writes(varied, owner, settings, zone):
    settings.TIME_ZONE = zone
    fast, full = _fast(owner), _full(owner)
    assert fast == full
    synced = next(item for item in fast if item["name"] == "a-running")["status"]["last_synced_at"]
    assert synced == {"Europe/Berlin": "2026-12-01T00:59:58.123456+01:00",
                      "America/Los_Angeles": "2026-11-30T15:59:58.123456-08:00"}[zone]


def test_the_owner_of_two_teams_sees_each_of_their_deployments_once(varied, owner):
    names = [item["name"] for item in _fast(owner)]
    assert names == ["a-running", "b-zero", "c-failed", "d-batch", "e-deleted"]


def test_the_list_endpoint_answers_what_the_full_serializer_says(varied, api, owner):
    response = api(owner).get("/api/v1/deployments/?page_size=3&ordering=-name")
    assert response.status_code == 200
    body = response.json()
    rows = deployments_for_user(owner).order_by("-name", "pk")[:3]
    assert body["count"] == 5 and body["next"] and body["previous"] is None
    assert body["results"] == json.loads(json.dumps(DeploymentSerializer(rows, many=True).data))


def test_the_list_reads_neither_specs_nor_manifests(varied, api, owner):
    client = api(owner)
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/v1/deployments/").status_code == 200
    deployment_reads = [q["sql"] for q in queries if 'FROM "deployments_deployment"' in q["sql"]]
    assert deployment_reads and not any('"spec"' in sql or '"manifests"' in sql or "DISTINCT" in sql
                                        for sql in deployment_reads)
