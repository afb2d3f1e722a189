"""Over budget → held for approval → staff approve (pushed) or reject (never pushed, reason shown)."""


import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from audit.models import Event
from deployments.models import Deployment
from deployments.services.approvals import deployment_approve, deployment_reject
from deployments.services.lifecycle import deployment_create
from specs.vocabulary import Status
from tests.factories import DeploymentFactory, online_spec

CHANGELIST = reverse("admin:deployments_deployment_changelist")


@pytest.fixture
def push(dispatched):
    return dispatched.push


@pytest.fixture
def over_budget(team, owner, push, django_capture_on_commit_callbacks):
    """A request stored by the real create service while the team's budget is far too small."""
    team.monthly_budget_usd = 10
    team.save()
    with django_capture_on_commit_callbacks(execute=True):
        deployment = deployment_create(user=owner, spec=online_spec())
    return deployment


def test_over_budget_request_waits_for_approval_and_is_not_pushed(over_budget, push, login, staff, owner):
    assert over_budget.status == Status.PENDING_APPROVAL
    assert "budget" in over_budget.approval_reason
    push.assert_not_called()
    requester_page = login(owner).get(reverse("deployment-detail", args=[over_budget.pk]))
    assert "Waiting for approval by platform staff" in requester_page.text
    response = login(staff).get(CHANGELIST)
    assert "1 request over budget or quota waiting for approval" in response.text
    fleet = login(staff).get(reverse("fleet"))
    assert "llama-chat" in fleet.text


def test_staff_approve_from_the_console_and_the_push_is_queued(
    over_budget, push, login, staff, django_capture_on_commit_callbacks
):
    client = login(staff)
    review = client.post(CHANGELIST, {"action": "approve", ACTION_CHECKBOX_NAME: [over_budget.pk]})
    assert review.status_code == 200 and "nlp/llama-chat: revision 1" in review.text
    over_budget.refresh_from_db()
    assert over_budget.status == Status.PENDING_APPROVAL  # nothing happens until staff confirm what they saw
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(CHANGELIST, {"action": "approve", "apply": "1", f"revision_{over_budget.pk}": "1",
                                            ACTION_CHECKBOX_NAME: [over_budget.pk]}, follow=True)
    assert "Approved: nlp/llama-chat" in response.text
    over_budget.refresh_from_db()
    assert over_budget.status == Status.QUEUED
    assert over_budget.decided_by == staff and over_budget.decided_at is not None
    # The push, then after the commit the requester's notification is recorded, and its email queued.
    from notifications.models import Delivery

    email = Delivery.objects.get(deployment=over_budget, event="approved")
    assert len(callbacks) == 3 and callbacks[0].args[:2] == ("deployments.tasks.push_deployment", (over_budget.pk, 1))
    assert callbacks[-1].args[:2] == ("notifications.tasks.deliver", (email.pk,))
    push.assert_called_once_with(over_budget.pk, 1)
    event = over_budget.events.get(kind=Event.Kind.APPROVAL)
    assert (event.actor, event.from_status, event.to_status) == (staff, "pending_approval", "queued")


def test_approve_from_the_deployment_page(over_budget, push, login, staff, django_capture_on_commit_callbacks):
    url = reverse("admin:deployments_deployment_change", args=[over_budget.pk])
    page = login(staff).get(url)
    assert "Approve (queue the push)" in page.text and "budget" in page.text
    review = login(staff).post(url, {"CHANGE_FORM-action": "approve", ACTION_CHECKBOX_NAME: [over_budget.pk]})
    assert "revision 1" in review.text
    with django_capture_on_commit_callbacks(execute=True):
        login(staff).post(CHANGELIST, {"action": "approve", "apply": "1", f"revision_{over_budget.pk}": "1",
                                       ACTION_CHECKBOX_NAME: [over_budget.pk]})
    over_budget.refresh_from_db()
    assert over_budget.status == Status.QUEUED
    push.assert_called_once_with(over_budget.pk, 1)


def test_reject_asks_for_a_reason_then_never_pushes(
    over_budget, push, login, staff, owner, django_capture_on_commit_callbacks
):
    client = login(staff)
    form = client.post(CHANGELIST, {"action": "reject", ACTION_CHECKBOX_NAME: [over_budget.pk]})
    assert form.status_code == 200 and "the requester sees your reason" in form.text
    over_budget.refresh_from_db()
    assert over_budget.status == Status.PENDING_APPROVAL  # nothing happens until a reason is given

    empty = client.post(CHANGELIST, {"action": "reject", "apply": "1", "reason": " ",
                                     ACTION_CHECKBOX_NAME: [over_budget.pk]})
    assert "This field is required" in empty.text

    reason = "Use an L40S instead: the A100s are reserved this month."
    with django_capture_on_commit_callbacks(execute=True):
        client.post(CHANGELIST, {"action": "reject", "apply": "1", "reason": reason,
                                 ACTION_CHECKBOX_NAME: [over_budget.pk]})
    over_budget.refresh_from_db()
    assert over_budget.status == Status.REJECTED
    assert over_budget.decision_reason == reason and over_budget.decided_by == staff
    push.assert_not_called()
    event = over_budget.events.get(kind=Event.Kind.APPROVAL)
    assert event.actor == staff and reason in event.message and event.data["reason"] == reason
    # The requester sees the decision on their deployment page.
    page = login(owner).get(reverse("deployment-detail", args=[over_budget.pk]))
    assert page.status_code == 200 and reason in page.text and "Rejected by sam-staff" in page.text


def test_a_decided_request_cannot_be_decided_again(over_budget, push, staff, login):
    deployment_reject(user=staff, deployment=over_budget, reason="too big")
    response = login(staff).post(CHANGELIST, {"action": "approve", "apply": "1", f"revision_{over_budget.pk}": "1",
                                              ACTION_CHECKBOX_NAME: [over_budget.pk]}, follow=True)
    assert "refused" in response.text
    over_budget.refresh_from_db()
    assert over_budget.status == Status.REJECTED
    push.assert_not_called()


def test_only_staff_decide(over_budget, owner):
    with pytest.raises(PermissionDenied):
        deployment_approve(user=owner, deployment=over_budget, revision=1)
    over_budget.refresh_from_db()
    assert over_budget.status == Status.PENDING_APPROVAL


def test_rejecting_a_change_keeps_the_running_revision(team, staff, push):
    """A change of a live deployment over budget: rejected, the cluster keeps what it runs."""
    deployment = DeploymentFactory(team=team, name="chat", status=Status.PENDING_APPROVAL, applied_revision=1)
    big = online_spec(team="nlp", name="chat", scaling={"min_replicas": 4, "max_replicas": 16})
    r2 = deployment.revisions.create(number=2, spec=big, manifests=[])
    deployment.current_revision = r2
    deployment.save()
    deployment_reject(user=staff, deployment=deployment, reason="16 replicas is more than the team needs")
    deployment.refresh_from_db()
    assert deployment.current_revision.number == 1
    assert deployment.status == Status.APPLYING  # the next sync reports running again
    assert deployment.decision_reason == "16 replicas is more than the team needs"
    push.assert_not_called()


def test_an_approval_never_pushes_a_revision_staff_did_not_see(over_budget, push, login, staff, owner,
                                                                django_capture_on_commit_callbacks):
    # Issue 13 item 6: the requester changed the pending request while staff looked; approve pushed the new one.
    from deployments.services.lifecycle import deployment_update

    client = login(staff)
    review = client.post(CHANGELIST, {"action": "approve", ACTION_CHECKBOX_NAME: [over_budget.pk]})
    assert "revision 1" in review.text
    bigger = {**over_budget.current_revision.spec, "scaling": {"min_replicas": 1, "max_replicas": 2}}
    changed = deployment_update(user=owner, deployment=over_budget, spec=bigger)
    assert changed.status == Status.PENDING_APPROVAL and changed.current_revision.number == 2  # its own request
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(CHANGELIST, {"action": "approve", "apply": "1", f"revision_{over_budget.pk}": "1",
                                            ACTION_CHECKBOX_NAME: [over_budget.pk]}, follow=True)
    assert "revision 2 is waiting now" in response.text
    over_budget.refresh_from_db()
    assert over_budget.status == Status.PENDING_APPROVAL
    push.assert_not_called()
    deployment_approve(user=staff, deployment=over_budget, revision=2)
    assert Deployment.objects.get(pk=over_budget.pk).status == Status.QUEUED
