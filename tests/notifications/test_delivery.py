"""A rejected request reaches the requester by a signed webhook and by email, over real HTTP and SMTP."""

import hashlib
import hmac
import json

import pytest

from deployments.services.approvals import deployment_reject
from deployments.services.lifecycle import deployment_create
from notifications.delivery import MAX_ATTEMPTS, delivery_attempt
from notifications.models import Delivery, EventKind
from notifications.services import email_subscription_set, notify, webhook_create
from specs.vocabulary import Status
from tests.factories import online_spec

from .servers import free_port, smtp_mailers

pytestmark = pytest.mark.django_db


@pytest.fixture
def pending(team, owner, django_capture_on_commit_callbacks):
    """A request held for approval: the team's budget is far too small for it."""
    team.monthly_budget_usd = 10
    team.save()
    with django_capture_on_commit_callbacks(execute=True):
        deployment = deployment_create(user=owner, spec=online_spec())
    assert deployment.status == Status.PENDING_APPROVAL
    return deployment


@pytest.fixture
def hook(team, owner, receiver):
    return webhook_create(user=owner, team=team, name="ml-alerts", url=receiver.url)


def _reject(staff, deployment, capture):
    with capture(execute=True):
        deployment_reject(user=staff, deployment=deployment, reason="Ask for a smaller GPU first")
    deployment.refresh_from_db()
    return deployment


def test_a_rejected_request_posts_one_signed_webhook_and_one_email(
        pending, hook, receiver, smtp, staff, owner, dispatched, deliver_queued, django_capture_on_commit_callbacks):
    webhook, secret = hook
    dispatched.sent.clear()  # the approval request to staff is another test's subject
    assert _reject(staff, pending, django_capture_on_commit_callbacks).status == Status.REJECTED
    deliver_queued()

    assert len(receiver.requests) == 1
    headers, body = receiver.requests[0]
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["X-Gantry-Signature"], expected)
    sent = json.loads(body)
    assert sent["timestamp"] == int(headers["X-Gantry-Timestamp"])
    assert "rejected" in sent["text"].lower() and "Ask for a smaller GPU first" in sent["text"]
    assert sent["gantry"]["event"] == "rejected"
    assert sent["gantry"]["deployment"] == {"id": pending.pk, "name": pending.name, "status": "rejected", "url": ""}
    assert headers["X-Gantry-Event"] == "rejected"

    assert len(smtp.messages) == 1
    mail = smtp.messages[0]
    assert mail.rcpt_tos == [owner.email]
    assert b"Ask for a smaller GPU first" in mail.content
    assert set(Delivery.objects.values_list("channel", "state", "attempts")) == {
        ("webhook", "delivered", 1), ("email", "delivered", 1)}
    assert Delivery.objects.get(channel="webhook").status_code == 200


def test_a_failing_receiver_is_retried_a_bounded_number_of_times_and_the_rejection_stands(
        pending, hook, receiver, smtp, staff, dispatched, deliver_queued, django_capture_on_commit_callbacks):
    receiver.status = 500
    dispatched.sent.clear()
    assert _reject(staff, pending, django_capture_on_commit_callbacks).status == Status.REJECTED
    results = dict(deliver_queued())

    assert len(receiver.requests) == MAX_ATTEMPTS
    failed = Delivery.objects.get(channel="webhook")
    assert (failed.state, failed.attempts, failed.status_code) == ("failed", MAX_ATTEMPTS, 500)
    assert failed.last_error == "the receiver answered 500"
    assert [o.retry for o in results[failed.pk]] == [True] * (MAX_ATTEMPTS - 1) + [False]
    assert delivery_attempt(delivery_id=failed.pk).retry is False  # a late duplicate message sends nothing
    assert len(receiver.requests) == MAX_ATTEMPTS
    assert len(smtp.messages) == 1  # the email went anyway


def test_a_receiver_that_recovers_gets_the_message_once(pending, hook, receiver, staff, dispatched,
                                                        django_capture_on_commit_callbacks):
    receiver.status = 503
    dispatched.sent.clear()
    _reject(staff, pending, django_capture_on_commit_callbacks)
    (delivery_id,) = [args[0] for args in dispatched.deliver.calls
                      if Delivery.objects.get(pk=args[0]).channel == "webhook"]
    assert delivery_attempt(delivery_id=delivery_id).retry is True
    receiver.status = 200
    outcome = delivery_attempt(delivery_id=delivery_id)
    assert (outcome.state, outcome.attempts, outcome.retry) == ("delivered", 2, False)
    bodies = {body for _, body in receiver.requests}
    assert len(receiver.requests) == 2 and all(h["X-Gantry-Delivery"] == str(delivery_id)
                                               for h, _ in receiver.requests)
    assert len(bodies) >= 1


def test_a_gone_endpoint_is_not_retried(team, owner, hook, receiver, deliver_queued, django_capture_on_commit_callbacks):
    receiver.status = 410
    with django_capture_on_commit_callbacks(execute=True):
        notify(kind=EventKind.DRIFT, team=team, message="The Service was edited in the cluster; re-applied")
    deliver_queued()
    delivery = Delivery.objects.get()
    assert (delivery.state, delivery.attempts, delivery.status_code) == ("failed", 1, 410)
    assert len(receiver.requests) == 1


def test_webhooks_into_private_networks_are_refused_unless_allowed(team, owner, hook, receiver, settings,
                                                                   deliver_queued, django_capture_on_commit_callbacks):
    settings.NOTIFICATIONS_ALLOW_PRIVATE_WEBHOOKS = False
    with django_capture_on_commit_callbacks(execute=True):
        notify(kind=EventKind.DRIFT, team=team, message="drifted")
    deliver_queued()
    delivery = Delivery.objects.get()
    assert delivery.state == "failed" and "private address" in delivery.last_error
    assert receiver.requests == []


def test_an_unreachable_smtp_server_is_retried_then_logged(team, owner, settings, deliver_queued,
                                                           django_capture_on_commit_callbacks):
    settings.MAILERS = smtp_mailers(free_port(), timeout=1)
    email_subscription_set(user=owner, team=team, subscribed=True)
    with django_capture_on_commit_callbacks(execute=True):
        notify(kind=EventKind.PUSH_FAILED, team=team, message="image not found")
    deliver_queued()
    delivery = Delivery.objects.get()
    assert (delivery.state, delivery.attempts) == ("failed", MAX_ATTEMPTS)
    assert "ConnectionRefusedError" in delivery.last_error
