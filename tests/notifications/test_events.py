"""Which events reach whom, and that a notification never stands in the way of the action."""

import pytest
from django.urls import reverse

from deployments.services.lifecycle import deployment_create
from deployments.services.push import deployment_push_failed
from notifications.models import Delivery, EventKind
from notifications.services import email_subscription_set, notify, webhook_create
from specs.vocabulary import Status
from tests.factories import DeploymentFactory, online_spec

pytestmark = pytest.mark.django_db


def test_a_request_over_budget_emails_the_staff_not_the_team(team, owner, staff, viewer, dispatched,
                                                            django_capture_on_commit_callbacks):
    email_subscription_set(user=viewer, team=team, subscribed=True)
    team.monthly_budget_usd = 10
    team.save()
    with django_capture_on_commit_callbacks(execute=True):
        deployment = deployment_create(user=owner, spec=online_spec())
    assert deployment.status == Status.PENDING_APPROVAL
    (delivery,) = Delivery.objects.all()
    assert (delivery.event, delivery.channel, delivery.address) == (EventKind.APPROVAL_NEEDED, "email", staff.email)
    assert "budget" in delivery.payload["text"]
    dispatched.deliver.assert_called_once_with(delivery.pk)


def test_a_failed_push_reaches_the_team_webhooks_and_subscribers(team, owner, viewer, outsider, other_team, dispatched,
                                                                 django_capture_on_commit_callbacks):
    webhook_create(user=owner, team=team, name="alerts", url="https://hooks.example.com/a")
    webhook_create(user=outsider, team=other_team, name="theirs", url="https://hooks.example.com/b")
    email_subscription_set(user=viewer, team=team, subscribed=True)
    deployment = DeploymentFactory(team=team, status=Status.APPLYING)
    with django_capture_on_commit_callbacks(execute=True):
        assert deployment_push_failed(deployment_id=deployment.pk, revision=1, message="image not found")
    sent = Delivery.objects.order_by("channel")
    assert [(d.channel, d.webhook.name if d.webhook else d.address) for d in sent] == [
        ("email", viewer.email), ("webhook", "alerts")]
    assert all(d.event == EventKind.PUSH_FAILED and d.team == team for d in sent)
    assert "image not found" in sent[0].payload["text"]
    assert dispatched.deliver.call_count == 2


def test_nothing_is_recorded_or_queued_before_the_commit(team, owner, dispatched, django_capture_on_commit_callbacks):
    # After the commit, so the action's row locks are gone (an approval racing a change deadlocked on the team).
    webhook_create(user=owner, team=team, name="alerts", url="https://hooks.example.com/a")
    notify(kind=EventKind.DRIFT, team=team, message="drifted")  # no commit in this test's transaction
    assert Delivery.objects.count() == 0
    dispatched.deliver.assert_not_called()
    with django_capture_on_commit_callbacks(execute=True):
        notify(kind=EventKind.DRIFT, team=team, message="drifted")
    assert Delivery.objects.count() == 1 and dispatched.deliver.call_count == 1


def test_a_broken_notification_does_not_break_the_action(team, owner, monkeypatch, django_capture_on_commit_callbacks):
    def broken(*args, **kwargs):
        raise RuntimeError("notifications are down")

    monkeypatch.setattr("notifications.services._recipients", broken)
    deployment = DeploymentFactory(team=team, status=Status.APPLYING)
    with django_capture_on_commit_callbacks(execute=True):
        assert deployment_push_failed(deployment_id=deployment.pk, revision=1, message="image not found")
    deployment.refresh_from_db()
    assert deployment.status == Status.FAILED
    assert not Delivery.objects.exists()


def test_the_link_points_at_the_deployment_page(team, owner, settings, django_capture_on_commit_callbacks):
    settings.PORTAL_URL = "https://gantry.example.com/"
    webhook_create(user=owner, team=team, name="alerts", url="https://hooks.example.com/a")
    deployment = DeploymentFactory(team=team, status=Status.APPLYING)
    with django_capture_on_commit_callbacks(execute=True):
        deployment_push_failed(deployment_id=deployment.pk, revision=1, message="boom")
    link = "https://gantry.example.com" + reverse("deployment-detail", args=[deployment.pk])
    payload = Delivery.objects.get().payload
    assert payload["gantry"]["deployment"]["url"] == link and link in payload["text"]


def test_budget_alerts_go_out_once_a_month_at_80_and_100_percent(team, owner, dispatched, receiver,
                                                                 deliver_queued, django_capture_on_commit_callbacks):
    # Budget $1,000: $850 spent this month is 85 % (80 % reached); $1,020 is over. Each level is said once.
    from datetime import date
    from decimal import Decimal

    from spend.budgets import budget_alerts_send
    from spend.models import DailySpend

    team.monthly_budget_usd = Decimal("1000")
    team.save()
    webhook_create(user=owner, team=team, name="finance", url=receiver.url)
    d = DeploymentFactory(team=team)
    today = date(2026, 11, 20)
    DailySpend.objects.create(deployment=d, team=team, day=date(2026, 11, 3), gpu_hours=100, cost_usd=Decimal("850"))
    DailySpend.objects.create(deployment=d, team=team, day=date(2026, 10, 30), gpu_hours=100, cost_usd=Decimal("900"))
    with django_capture_on_commit_callbacks(execute=True):
        assert budget_alerts_send(today=today) == [(team.slug, EventKind.BUDGET_80)]
    assert budget_alerts_send(today=today) == []  # already told this month
    DailySpend.objects.create(deployment=d, team=team, day=date(2026, 11, 19), gpu_hours=20, cost_usd=Decimal("170"))
    with django_capture_on_commit_callbacks(execute=True):
        assert budget_alerts_send(today=today) == [(team.slug, EventKind.BUDGET_100)]
    deliver_queued()
    import json

    texts = [json.loads(body)["text"] for _headers, body in receiver.requests]
    assert len(texts) == 2 and "$850.00 of its $1,000.00" in texts[0] and "100 % reached" in texts[1]
    # A new month starts the count again.
    assert budget_alerts_send(today=date(2026, 12, 1)) == []  # nothing spent in December yet
