"""The team's notifications page: owners add webhooks (secret shown once), members read the delivery log."""

import pytest
from django.urls import reverse

from notifications.models import Delivery, EventKind, Webhook
from notifications.services import notify

pytestmark = pytest.mark.django_db

URL = reverse("team-notifications", args=["nlp"])
HOOK = "https://hooks.slack.com/services/T000/B000/XXXXSECRETPATH"


def test_an_owner_adds_a_webhook_and_sees_its_secret_once(team, owner, login):
    client = login(owner)
    response = client.post(URL, {"action": "add", "name": "ml-alerts", "url": HOOK})
    assert response.status_code == 201 and response["Cache-Control"] == "no-store"
    webhook = Webhook.objects.get()
    assert webhook.team == team and webhook.secret in response.text
    later = client.get(URL)
    assert "ml-alerts" in later.text and webhook.secret not in later.text
    assert "XXXXSECRETPATH" not in later.text  # a Slack URL's path is a credential too
    assert "https://hooks.slack.com/…" in later.text


def test_members_read_but_do_not_add(team, viewer, deployer, login):
    for user in (viewer, deployer):
        assert login(user).get(URL).status_code == 200
        assert login(user).post(URL, {"action": "add", "name": "x", "url": HOOK}).status_code == 403
    assert not Webhook.objects.exists()


def test_an_outsider_gets_404(team, outsider, login):
    assert login(outsider).get(URL).status_code == 404
    assert login(outsider).post(URL, {"action": "add", "name": "x", "url": HOOK}).status_code == 404


def test_a_bad_url_is_refused_with_a_message(team, owner, login):
    response = login(owner).post(URL, {"action": "add", "name": "x", "url": "ftp://example.com/x"})
    assert response.status_code == 400 and "URL" in response.text
    assert not Webhook.objects.exists()


def test_the_delivery_log_shows_status_and_attempts(team, owner, viewer, login, django_capture_on_commit_callbacks):
    login(owner).post(URL, {"action": "add", "name": "ml-alerts", "url": HOOK})
    with django_capture_on_commit_callbacks(execute=True):
        notify(kind=EventKind.DRIFT, team=team, message="drifted")
    Delivery.objects.update(state="failed", attempts=5, status_code=500, last_error="the receiver answered 500")
    page = login(viewer).get(URL).text
    assert "Drift detected" in page and "the receiver answered 500" in page and ">5<" in page


def test_a_member_turns_email_on_and_off(team, viewer, login):
    client = login(viewer)
    client.post(URL, {"action": "subscribe"})
    assert "Stop emails" in client.get(URL).text
    client.post(URL, {"action": "unsubscribe"})
    assert "Email me" in client.get(URL).text


def test_an_owner_removes_a_webhook(team, owner, login):
    client = login(owner)
    client.post(URL, {"action": "add", "name": "ml-alerts", "url": HOOK})
    client.post(URL, {"action": "delete", "webhook": Webhook.objects.get().pk})
    assert not Webhook.objects.exists()


def test_the_dashboard_links_each_team_to_its_notifications(team, owner, login):
    page = login(owner).get("/").content.decode()
    assert f'href="/teams/{team.slug}/notifications/"' in page


def test_a_webhooks_url_and_secret_are_encrypted_at_rest(team, owner):
    # The standard: no secret in the database in plain text. A Slack URL's path is a credential too.
    from django.db import connection

    from notifications.models import Webhook
    from notifications.services import webhook_create

    webhook, secret = webhook_create(user=owner, team=team, name="slack",
                                     url="https://hooks.slack.com/services/T000/B000/XXXXSECRETPATH")
    with connection.cursor() as cursor:
        cursor.execute("SELECT url, secret FROM notifications_webhook WHERE id = %s", [webhook.pk])
        stored_url, stored_secret = cursor.fetchone()
    assert "XXXXSECRETPATH" not in stored_url and secret not in stored_secret
    again = Webhook.objects.get(pk=webhook.pk)
    assert again.url.endswith("XXXXSECRETPATH") and again.secret == secret  # what signing and posting use
    assert again.url_display == "https://hooks.slack.com/…"


def test_a_person_adds_their_own_webhook_and_gets_the_decision_on_their_request(team, owner, deployer, login,
                                                                              dispatched,
                                                                              django_capture_on_commit_callbacks):
    from notifications.models import Delivery, EventKind, Webhook
    from notifications.services import notify

    client = login(deployer)
    response = client.post("/notifications/", {"action": "add", "name": "my phone",
                                               "url": "https://hooks.example.com/deployer"})
    assert response.status_code == 201 and "shown only once" in response.text
    mine = Webhook.objects.get(user=deployer)
    assert mine.team is None and mine.secret in response.text
    assert "Email" not in response.text.split("<h1>")[1].split("Delivery log")[0]  # no team email on this page
    with django_capture_on_commit_callbacks(execute=True):
        notify(kind=EventKind.REJECTED, team=team, message="Rejected: over budget", requester=deployer)
    assert Delivery.objects.filter(webhook=mine, event=EventKind.REJECTED).count() == 1
    page = client.get("/notifications/").text
    assert "my phone" in page and "Request rejected" in page
    # Nobody else sees or removes it.
    other = login(owner)
    assert "my phone" not in other.get("/notifications/").text
    other.post("/notifications/", {"action": "delete", "webhook": mine.pk})
    assert Webhook.objects.filter(pk=mine.pk).exists()
    client.post("/notifications/", {"action": "delete", "webhook": mine.pk})
    assert not Webhook.objects.filter(pk=mine.pk).exists()
