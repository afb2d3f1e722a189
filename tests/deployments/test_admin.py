"""Console actions call the same services as the API, and leave an audit trail naming the staff member."""

from unittest import mock

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from audit.models import Event
from deployments.services import lifecycle
from specs.vocabulary import Status
from tests.factories import DeploymentFactory

CHANGELIST = reverse("admin:deployments_deployment_changelist")


@pytest.fixture
def deployments(team, other_team):
    return [DeploymentFactory(team=team, name="chat"), DeploymentFactory(team=other_team, name="detector")]


def _act(client, action, objs):
    return client.post(CHANGELIST, {"action": action, ACTION_CHECKBOX_NAME: [d.pk for d in objs]}, follow=True)


@pytest.mark.parametrize("action,service", [
    ("resync_now", "deployment_resync"), ("repush", "deployment_repush"), ("tear_down", "deployment_teardown"),
])
def test_actions_call_the_lifecycle_services(login, staff, deployments, action, service):
    with mock.patch.object(lifecycle, service, autospec=True) as called:
        _act(login(staff), action, deployments)
    assert called.call_count == 2
    assert {c.kwargs["deployment"].pk for c in called.call_args_list} == {d.pk for d in deployments}
    assert all(c.kwargs["user"] == staff for c in called.call_args_list)
    admin_events = Event.objects.filter(kind=Event.Kind.ADMIN, actor=staff)
    assert admin_events.count() == 2


def test_tear_down_from_the_console_is_real_and_audited(dispatched, login, staff, deployments,
                                                         django_capture_on_commit_callbacks):
    chat = deployments[0]
    teardown = dispatched.teardown
    with django_capture_on_commit_callbacks(execute=True):
        response = _act(login(staff), "tear_down", [chat])
    assert "Tear down: nlp/chat" in response.text
    chat.refresh_from_db()
    assert chat.status == Status.DELETING
    teardown.assert_called_once_with(chat.pk)
    service_event = chat.events.get(kind=Event.Kind.TEARDOWN)
    assert (service_event.actor, service_event.from_status, service_event.to_status) == (staff, "running", "deleting")
    assert chat.events.get(kind=Event.Kind.ADMIN).actor == staff
    assert deployments[1].events.count() == 0


def test_resync_from_the_deployment_page(dispatched, login, staff, deployments, django_capture_on_commit_callbacks):
    chat = deployments[0]
    url = reverse("admin:deployments_deployment_change", args=[chat.pk])
    sync = dispatched.sync
    with django_capture_on_commit_callbacks(execute=True):
        login(staff).post(url, {"CHANGE_FORM-action": "resync_now", ACTION_CHECKBOX_NAME: [chat.pk]})
    sync.assert_called_once_with()
    assert chat.events.filter(kind=Event.Kind.SYNC, actor=staff).exists()


def test_a_refused_action_is_reported_not_audited(login, staff, team):
    gone = DeploymentFactory(team=team, name="old", status=Status.DELETED)
    response = _act(login(staff), "repush", [gone])
    assert "refused" in response.text
    assert not Event.objects.filter(kind=Event.Kind.ADMIN).exists()


def test_deployments_list_filters_and_search(login, staff, team, other_team):
    DeploymentFactory(team=team, name="chat-a", status=Status.FAILED, gpu_class="H100_SXM_80GB", region="LAS1")
    DeploymentFactory(team=other_team, name="vision-b", status=Status.RUNNING, gpu_class="L40S_48GB", region="ORD1")
    client = login(staff)
    assert "chat-a" in client.get(CHANGELIST).text and "vision-b" in client.get(CHANGELIST).text
    cases = {"health=failing": "chat-a", "gpu_class=L40S_48GB": "vision-b", "region=LAS1": "chat-a",
             f"team__id__exact={other_team.pk}": "vision-b", "q=vision": "vision-b", "status__exact=failed": "chat-a"}
    for query, only in cases.items():
        text = client.get(f"{CHANGELIST}?{query}").text
        other = {"chat-a", "vision-b"} - {only}
        assert only in text and other.pop() not in text, query


def test_deployments_cannot_be_added_or_deleted_in_the_console(login, staff, deployments):
    client = login(staff)
    assert client.get(reverse("admin:deployments_deployment_add")).status_code == 403
    assert client.get(reverse("admin:deployments_deployment_delete", args=[deployments[0].pk])).status_code == 403
    page = client.get(reverse("admin:deployments_deployment_change", args=[deployments[0].pk]))
    assert "ghcr.io/acme/llm-server:1.4" in page.text  # the spec, read-only


CREATE = reverse("admin:deployments_deployment_create_from_spec")


def test_staff_create_a_deployment_from_a_spec_and_it_is_queued_and_audited(dispatched, login, staff, team,
                                                                           django_capture_on_commit_callbacks):
    import json

    from tests.factories import online_spec

    client = login(staff)
    assert "Create from a spec" in client.get(CHANGELIST).content.decode()
    delay = dispatched.push
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(CREATE, {"spec": json.dumps(online_spec(name="from-console"))}, follow=True)
    deployment = team.deployments.get(name="from-console")
    assert deployment.status == Status.QUEUED
    assert deployment.current_revision.spec["compute"]["gpu_class"]  # completed by the recommender
    delay.assert_called_once_with(deployment.pk, 1)
    assert "created" in response.content.decode()
    event = Event.objects.get(deployment=deployment, kind=Event.Kind.ADMIN)
    assert event.actor == staff and "from the admin console" in event.message


def test_a_bad_spec_in_the_console_shows_the_field_and_stores_nothing(login, staff, team):
    import json

    from tests.factories import online_spec

    client = login(staff)
    body = client.post(CREATE, {"spec": json.dumps(online_spec(name="Bad Name", models_per_gpu=3))}).content.decode()
    assert "name:" in body and "invalid_name" in body and "bin_packing" in body
    assert "Not valid JSON" in client.post(CREATE, {"spec": "{name: x"}).content.decode()
    assert not team.deployments.exists()


@pytest.mark.parametrize("persona", ["owner", "viewer", "outsider"])
def test_only_staff_reach_the_console_create_page(request, login, persona):
    response = login(request.getfixturevalue(persona)).get(CREATE)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
