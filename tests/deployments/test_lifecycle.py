"""Lifecycle services: create, change, roll back, tear down; compare-and-set transitions with events."""

import pytest
from django.core.exceptions import PermissionDenied

from audit.models import Event
from deployments.models import Deployment, Revision
from deployments.services import lifecycle, push
from specs.vocabulary import Status
from tests.cluster_helpers import KSVC, deployment_pushed
from tests.factories import online_spec

pytestmark = [pytest.mark.timeout(30), pytest.mark.django_db]


def queued_tasks(callbacks, dispatched):
    """The task names and arguments published once the on-commit callbacks run (and not before)."""
    assert dispatched.sent == [], "work was queued before the transaction committed"
    for callback in callbacks:
        callback()
    return [(name.rsplit(".", 1)[-1], args) for name, args in dispatched.sent]


def test_create_stores_revision_one_and_queues_the_push_after_commit(dispatched, deployer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        deployment = lifecycle.deployment_create(user=deployer, spec=online_spec())
    assert deployment.status == Status.QUEUED
    assert deployment.gpu_class and deployment.region == "LAS1" and deployment.target == "knative"
    revision = deployment.current_revision
    assert revision.number == 1 and revision.spec["compute"]["gpu_class"] == deployment.gpu_class
    assert revision.manifests[0]["metadata"]["annotations"]["gantry.io/revision"] == "1"
    event = deployment.events.get()
    assert (event.kind, event.actor, event.to_status) == (Event.Kind.CREATED, deployer, Status.QUEUED)
    assert queued_tasks(callbacks, dispatched) == [("push_deployment", (deployment.pk, 1))]


def test_an_invalid_spec_is_refused_with_its_errors_and_nothing_is_stored(deployer):
    with pytest.raises(lifecycle.SpecInvalid) as err:
        lifecycle.deployment_create(user=deployer, spec=online_spec(models_per_gpu=2))
    assert [e["code"] for e in err.value.errors] == ["bin_packing"]
    assert not Deployment.objects.exists()


def test_over_quota_waits_for_approval_instead_of_being_pushed(deployer, team, dispatched,
                                                               django_capture_on_commit_callbacks):
    team.gpu_quota = 1
    team.save()
    with django_capture_on_commit_callbacks(execute=True):
        deployment = lifecycle.deployment_create(user=deployer, spec=online_spec(scaling={"min_replicas": 0, "max_replicas": 4}))
    assert deployment.status == Status.PENDING_APPROVAL
    assert "quota" in deployment.approval_reason
    dispatched.push.assert_not_called()  # staff are told (notifications), nothing goes to the cluster


def test_the_same_idempotency_key_returns_the_first_deployment(deployer):
    first = lifecycle.deployment_create(user=deployer, spec=online_spec(), idempotency_key="k-1")
    again = lifecycle.deployment_create(user=deployer, spec=online_spec(), idempotency_key="k-1")
    assert again.pk == first.pk
    assert Deployment.objects.count() == 1


def test_a_taken_name_and_a_viewer_are_refused(deployer, viewer):
    lifecycle.deployment_create(user=deployer, spec=online_spec())
    with pytest.raises(lifecycle.SpecInvalid) as err:
        lifecycle.deployment_create(user=deployer, spec=online_spec())
    assert err.value.errors[0]["code"] == "name_taken"
    with pytest.raises(PermissionDenied):
        lifecycle.deployment_create(user=viewer, spec=online_spec(name="other"))


def test_transition_is_compare_and_set_with_one_event_per_change(deployer):
    deployment = lifecycle.deployment_create(user=deployer, spec=online_spec())
    stale = Deployment.objects.get(pk=deployment.pk)
    assert lifecycle.deployment_transition(deployment=deployment, expected=Status.QUEUED, new=Status.APPLYING)
    assert not lifecycle.deployment_transition(deployment=stale, expected=Status.QUEUED, new=Status.FAILED)
    assert Deployment.objects.get(pk=deployment.pk).status == Status.APPLYING
    assert list(deployment.events.filter(kind=Event.Kind.STATUS).values_list("from_status", "to_status")) == [
        ("queued", "applying")
    ]


def test_update_and_rollback_add_revisions_and_queue_them(dispatched, deployer, django_capture_on_commit_callbacks):
    deployment = lifecycle.deployment_create(user=deployer, spec=online_spec())
    changed = online_spec(runtime={"image": "ghcr.io/acme/llm-server:2.0", "port": 8080, "protocol": "http"})
    with django_capture_on_commit_callbacks() as callbacks:
        lifecycle.deployment_update(user=deployer, deployment=deployment, spec=changed)
        lifecycle.deployment_rollback(user=deployer, deployment=deployment, revision_number=1)
    images = list(
        Revision.objects.filter(deployment=deployment).order_by("number").values_list("spec__runtime__image", flat=True)
    )
    assert images == ["ghcr.io/acme/llm-server:1.4", "ghcr.io/acme/llm-server:2.0", "ghcr.io/acme/llm-server:1.4"]
    deployment.refresh_from_db()
    assert deployment.current_revision.number == 3 and deployment.status == Status.QUEUED
    assert queued_tasks(callbacks, dispatched) == [("push_deployment", (deployment.pk, 2)), ("push_deployment", (deployment.pk, 3))]
    kinds = set(deployment.events.values_list("kind", flat=True))
    assert {Event.Kind.CHANGED, Event.Kind.ROLLBACK} <= kinds


def test_push_applies_the_revision_and_a_stale_push_is_skipped(sandbox, sandbox_kubeconfig, deployer):
    deployment = deployment_pushed(deployer, name="llama-chat")
    assert deployment.status == Status.APPLYING and deployment.applied_revision == 1
    assert deployment.push_attempts == 1 and deployment.last_pushed_at
    assert sandbox.object(KSVC, "tenant-nlp", "llama-chat") is not None
    assert deployment.events.filter(kind=Event.Kind.PUSH).exists()

    lifecycle.deployment_update(user=deployer, deployment=deployment, spec=online_spec(
        runtime={"image": "ghcr.io/acme/llm-server:2.0", "port": 8080, "protocol": "http"}))
    sandbox.clear_log()
    assert not push.deployment_push(deployment_id=deployment.pk, revision=1)
    assert sandbox.requests == []  # an old message for revision 1 never overwrites revision 2


def test_teardown_removes_every_object_and_ends_deleted(dispatched, sandbox, sandbox_kubeconfig, deployer,
                                                         django_capture_on_commit_callbacks):
    deployment = deployment_pushed(deployer, name="llama-chat")
    sandbox.simulator.tick()
    with django_capture_on_commit_callbacks() as callbacks:
        lifecycle.deployment_teardown(user=deployer, deployment=deployment)
    assert queued_tasks(callbacks, dispatched) == [("teardown_deployment", (deployment.pk,))]
    assert Deployment.objects.get(pk=deployment.pk).status == Status.DELETING

    assert push.deployment_teardown_run(deployment_id=deployment.pk)
    deployment.refresh_from_db()
    assert deployment.status == Status.DELETED
    assert sandbox.object(KSVC, "tenant-nlp", "llama-chat") is None
    assert sandbox.objects("pods", "tenant-nlp") == []
    assert list(deployment.events.filter(kind=Event.Kind.TEARDOWN).values_list("to_status", flat=True)) == [
        "deleted", "deleting"
    ]


def test_a_create_renders_once_and_reads_the_team_once(deployer):
    from unittest import mock

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from specs import preview

    with mock.patch.object(preview, "manifests_render", wraps=preview.manifests_render) as render, \
            CaptureQueriesContext(connection) as queries:
        deployment = lifecycle.deployment_create(user=deployer, spec=online_spec())
    assert render.call_count == 1
    # Looked up by the slug the spec names once; the quota's lock and sums then go by its id.
    by_slug = [q["sql"] for q in queries if '"teams_team"' in q["sql"] and '"slug" = ' in q["sql"].split("WHERE")[-1]]
    assert len(by_slug) == 1, by_slug
    # What was rendered for the preview is what is stored, for revision 1.
    assert deployment.current_revision.manifests[0]["metadata"]["annotations"]["gantry.io/revision"] == "1"


def test_the_budget_counts_what_live_deployments_may_cost_not_only_what_was_spent(deployer, team):
    # Issue 13 item 7: five $1,124/month deployments used to pass a $2,000 budget (nothing spent yet).
    first = lifecycle.deployment_create(user=deployer, spec=online_spec(name="one"))
    monthly = first.monthly_max_usd
    assert monthly > 0 and first.status == Status.QUEUED
    team.monthly_budget_usd = monthly * 2 - 1  # room for one, not two
    team.gpu_quota = 1000
    team.save()
    second = lifecycle.deployment_create(user=deployer, spec=online_spec(name="two"))
    assert second.status == Status.PENDING_APPROVAL
    assert "other deployments may cost" in second.approval_reason
    # A change of the first is measured without counting the first itself.
    changed = lifecycle.deployment_update(user=deployer, deployment=first, spec=online_spec(name="one"))
    assert changed.status == Status.QUEUED


def _scaled(max_replicas):
    return online_spec(scaling={"min_replicas": 0, "max_replicas": max_replicas, "latency_tolerance": "moderate"})


def _taken_by_the_worker(deployment):
    """The page the user acts on was read while the deployment was queued; the worker has taken the push since."""
    Deployment.objects.filter(pk=deployment.pk).update(status=Status.APPLYING)
    assert deployment.status == Status.QUEUED


@pytest.mark.parametrize("action", ["change", "rollback", "push again", "tear down"])
def test_a_users_action_is_not_refused_because_the_worker_took_the_push_meanwhile(dispatched, deployer, action):
    deployment = lifecycle.deployment_create(user=deployer, spec=online_spec())
    if action == "rollback":
        lifecycle.deployment_update(user=deployer, deployment=deployment, spec=_scaled(3))
    _taken_by_the_worker(deployment)
    if action == "change":
        lifecycle.deployment_update(user=deployer, deployment=deployment, spec=_scaled(4))
        expected, revision = Status.QUEUED, 2
    elif action == "rollback":
        lifecycle.deployment_rollback(user=deployer, deployment=deployment, revision_number=1)
        expected, revision = Status.QUEUED, 3
    elif action == "push again":
        lifecycle.deployment_repush(user=deployer, deployment=deployment)
        expected, revision = Status.QUEUED, 1
    else:
        lifecycle.deployment_teardown(user=deployer, deployment=deployment)
        expected, revision = Status.DELETING, 1
    stored = Deployment.objects.select_related("current_revision").get(pk=deployment.pk)
    assert (stored.status, stored.current_revision.number) == (expected, revision)
    last = stored.events.order_by("-id").first()
    assert (last.from_status, last.to_status) == (Status.APPLYING, expected), "the event says what it left"


def test_a_change_based_on_a_revision_another_change_replaced_is_still_refused(deployer):
    deployment = lifecycle.deployment_create(user=deployer, spec=online_spec())
    stale = Deployment.objects.get(pk=deployment.pk)
    lifecycle.deployment_update(user=deployer, deployment=deployment, spec=_scaled(3))
    with pytest.raises(lifecycle.DeploymentConflict, match="changed meanwhile"):
        lifecycle.deployment_update(user=deployer, deployment=stale, spec=_scaled(4))
    assert Deployment.objects.get(pk=deployment.pk).current_revision.number == 2


def test_a_change_of_a_deployment_torn_down_meanwhile_is_refused(deployer):
    deployment = lifecycle.deployment_create(user=deployer, spec=online_spec())
    stale = Deployment.objects.get(pk=deployment.pk)
    lifecycle.deployment_teardown(user=deployer, deployment=deployment)
    with pytest.raises(lifecycle.DeploymentConflict, match="changed meanwhile"):
        lifecycle.deployment_update(user=deployer, deployment=stale, spec=_scaled(4))
    stored = Deployment.objects.get(pk=deployment.pk)
    assert (stored.status, stored.current_revision.number) == (Status.DELETING, 1)
