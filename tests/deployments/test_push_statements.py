"""A push writes what it always wrote (status, attempt, first push time, both events) in five statements, and a
compare-and-set that no longer matches writes none of it."""

import pytest
from django.utils import timezone

from audit.models import Event
from audit.services import event_build
from deployments.models import Deployment
from deployments.services import lifecycle, push
from deployments.services.statements import row_update_recorded
from specs.vocabulary import Status
from rows.read import row_read
from tests.cluster_helpers import KSVC
from tests.factories import online_spec

pytestmark = [pytest.mark.timeout(30), pytest.mark.django_db]

# The deployment's advisory lock; the deployment read with its team and revision; queued -> applying with the
# attempt, the revision's first push time and the status event; applied with the push event; the unlock.
STATEMENTS_PER_PUSH = 5


def test_a_first_push_records_status_attempt_and_events_in_five_statements(
        sandbox, sandbox_kubeconfig, deployer, django_assert_max_num_queries):
    first = lifecycle.deployment_create(user=deployer, spec=online_spec(name="first"))
    assert push.deployment_push(deployment_id=first.pk, revision=1)  # which cluster serves LAS1 is cached from here
    created = lifecycle.deployment_create(user=deployer, spec=online_spec(name="llama-chat"))
    before = timezone.now()
    with django_assert_max_num_queries(STATEMENTS_PER_PUSH):
        assert push.deployment_push(deployment_id=created.pk, revision=1)
    deployment = Deployment.objects.select_related("current_revision").get(pk=created.pk)
    assert (deployment.status, deployment.applied_revision, deployment.push_attempts) == (Status.APPLYING, 1, 1)
    assert deployment.last_pushed_at >= before
    assert deployment.current_revision.pushed_at == deployment.last_pushed_at  # time to ready counts from here
    assert sandbox.object(KSVC, "tenant-nlp", "llama-chat") is not None
    status, pushed = deployment.events.exclude(kind=Event.Kind.CREATED).order_by("id")
    assert (status.kind, status.from_status, status.to_status, status.message) == (
        Event.Kind.STATUS, Status.QUEUED, Status.APPLYING, "Applying revision 1")
    assert (pushed.kind, pushed.from_status, pushed.to_status) == (Event.Kind.PUSH, Status.APPLYING, Status.APPLYING)
    assert pushed.message == "Applied revision 1 (1 objects)"
    assert pushed.data == {"revision": 1, "objects": ["Service tenant-nlp/llama-chat"]}
    assert status.team_id == pushed.team_id == deployment.team_id and status.actor is None
    assert before <= status.created_at <= pushed.created_at


def test_a_compare_and_set_that_no_longer_matches_writes_nothing(deployer):
    deployment = lifecycle.deployment_create(user=deployer, spec=online_spec(name="llama-chat"))
    revision = deployment.current_revision
    Deployment.objects.filter(pk=deployment.pk).update(status=Status.DELETING)  # a tear down won the race
    event = event_build(deployment=deployment, kind=Event.Kind.STATUS, to_status=Status.APPLYING, message="x")
    moved = row_update_recorded(deployment, {"status": Status.APPLYING, "push_attempts": 5}, event=event,
                                where={"status": Status.QUEUED},
                                also=[(type(revision), {"pushed_at": timezone.now()}, {"id": revision.pk})])
    assert moved is False and deployment.status == Status.QUEUED and deployment.push_attempts == 0
    stored = Deployment.objects.select_related("current_revision").get(pk=deployment.pk)
    assert (stored.status, stored.push_attempts, stored.current_revision.pushed_at) == (Status.DELETING, 0, None)
    assert list(stored.events.values_list("kind", flat=True)) == [Event.Kind.CREATED]


def _fields(instance):
    return {f.attname: getattr(instance, f.attname) for f in type(instance)._meta.concrete_fields}


def test_the_push_read_gives_what_select_related_gives_in_one_query(deployer, django_assert_num_queries):
    deployment = lifecycle.deployment_create(user=deployer, spec=online_spec(name="llama-chat"))
    Deployment.objects.filter(pk=deployment.pk).update(superseded=[{"kind": "Service", "name": "old"}])
    orm = Deployment.objects.select_related("team", "current_revision").get(pk=deployment.pk)
    with django_assert_num_queries(1):
        read = row_read(Deployment, {"id": deployment.pk}, ("team", "current_revision"))
        assert _fields(read.team) == _fields(orm.team) and read.namespace == "tenant-nlp"
        assert _fields(read.current_revision) == _fields(orm.current_revision)
    assert _fields(read) == _fields(orm)
    assert read.superseded == [{"kind": "Service", "name": "old"}]  # JSON columns decoded, as the ORM does
    assert read.current_revision.manifests[0]["kind"] == "Service"
    assert row_read(Deployment, {"id": deployment.pk + 1000}, ("team",)) is None


def test_the_push_read_of_a_deployment_without_revision_has_none(deployer, django_assert_num_queries):
    deployment = lifecycle.deployment_create(user=deployer, spec=online_spec(name="llama-chat"))
    Deployment.objects.filter(pk=deployment.pk).update(current_revision=None)
    with django_assert_num_queries(1):
        assert row_read(Deployment, {"id": deployment.pk}, ("team", "current_revision")).current_revision is None
