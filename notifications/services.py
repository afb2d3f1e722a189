"""Who hears about what, and the team's webhooks and email subscriptions.

`notify` is called by the services that cause an event (deployments, spend). It writes one Delivery
row per recipient and queues each after commit; it never raises into the action that called it.
"""

import logging
from functools import partial

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.urls import NoReverseMatch, reverse

from teams.models import Role
from teams.selectors import user_role

from .dispatch import deliver_dispatch
from .models import Delivery, EmailSubscription, EventKind, Webhook

log = logging.getLogger(__name__)

PERSONAL = (EventKind.APPROVED, EventKind.REJECTED)


def _link(deployment):
    base = getattr(settings, "PORTAL_URL", "")
    if deployment is None or not base:
        return ""
    try:
        return base.rstrip("/") + reverse("deployment-detail", args=[deployment.pk])
    except NoReverseMatch:
        return ""


def _payload(kind, team, deployment, message, data):
    label = EventKind(kind).label
    where = f"{team.slug}/{deployment.name}" if deployment is not None else team.slug
    link = _link(deployment)
    text = f"[Gantry] {where}: {label}. {message}" + (f"\n{link}" if link else "")
    gantry = {"event": str(kind), "team": team.slug, "message": message, "data": data or {}}
    if deployment is not None:
        gantry["deployment"] = {"id": deployment.pk, "name": deployment.name, "status": deployment.status,
                                "url": link}
    return f"[Gantry] {where}: {label}", {"text": text, "gantry": gantry}


def _recipients(kind, team, requester):
    """(webhooks, [(address, user)]) for an event."""
    users = get_user_model().objects.filter(is_active=True).exclude(email="")
    if kind == EventKind.APPROVAL_NEEDED:
        staff = list(users.filter(is_staff=True))
        return list(Webhook.objects.filter(user__is_staff=True, user__is_active=True)), [(u.email, u) for u in staff]
    webhooks = list(Webhook.objects.filter(team=team))
    if kind in PERSONAL:
        if requester is None:
            return webhooks, []
        webhooks += list(Webhook.objects.filter(user=requester))
        return webhooks, [(requester.email, requester)] if requester.email and requester.is_active else []
    subscribers = users.filter(pk__in=EmailSubscription.objects.filter(team=team).values("user"))
    return webhooks, [(u.email, u) for u in subscribers]


def notify(*, kind, team, deployment=None, message, requester=None, data=None):
    """Record and queue the event's messages once the caller's transaction commits; at once outside one.

    After the commit, so the action's row locks are gone: delivery rows reference the team, and writing
    them inside an approval racing a change deadlocked on the team row (tests/system/concurrency).
    A failure here is logged: the action still succeeds.
    """
    args = {"kind": kind, "team": team, "deployment": deployment, "message": message, "requester": requester,
            "data": data}
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(partial(_notify_now, **args))
        return None
    return _notify_now(**args)


def _notify_now(*, kind, team, deployment, message, requester, data):
    try:
        with transaction.atomic():
            subject, payload = _payload(kind, team, deployment, message, data)
            webhooks, emails = _recipients(kind, team, requester)
            common = {"event": kind, "deployment": deployment, "subject": subject, "payload": payload}
            deliveries = [Delivery(channel=Delivery.Channel.WEBHOOK, webhook=w, team=w.team, user=w.user, **common)
                          for w in webhooks]
            deliveries += [Delivery(channel=Delivery.Channel.EMAIL, address=address, user=user,
                                    team=None if kind == EventKind.APPROVAL_NEEDED else team, **common)
                           for address, user in emails]
            Delivery.objects.bulk_create(deliveries)
    except Exception:
        log.exception("could not record the %s notifications for team %s", kind, getattr(team, "slug", team))
        return []
    for delivery in deliveries:
        deliver_dispatch(delivery_id=delivery.pk)
    return deliveries


def notify_once(*, kind, team, since, message, data=None):
    """notify(), unless this team was already told of `kind` since `since` (budget levels: once a month).
    True when it notified."""
    if Delivery.objects.filter(team=team, event=kind, created_at__gte=since).exists():
        return False
    notify(kind=kind, team=team, message=message, data=data)
    return True


URL_MAX = 500


def _owner_check(user, team):
    if user_role(user, team) != Role.OWNER:
        raise PermissionDenied("Only the team's owners manage its webhooks.")


def webhook_create(*, user, team, name, url):
    """A team webhook, or the user's own with team=None; returns (webhook, secret). The secret is shown to
    the caller once, never again."""
    if team is not None:
        _owner_check(user, team)
    webhook = Webhook(team=team, user=None if team is not None else user, name=(name or "").strip(),
                      url=(url or "").strip(), created_by=user, secret=Webhook.generate_secret())
    webhook.full_clean(exclude=["user", "team"])
    try:
        URLValidator(schemes=["http", "https"])(webhook.url)
    except ValidationError:
        raise ValidationError({"url": "Use an http:// or https:// URL."}) from None
    if len(webhook.url) > URL_MAX:
        raise ValidationError({"url": f"Use a URL of at most {URL_MAX} characters."})
    webhook.save()
    log.info("webhook %s created for %s by %s", webhook.pk, f"team {team.slug}" if team else "its user",
             user.get_username())
    return webhook, webhook.secret


def webhook_delete(*, user, team, webhook_id):
    """Remove a team's webhook (its owners), or with team=None one of the user's own."""
    if team is not None:
        _owner_check(user, team)
    owned = Webhook.objects.filter(team=team) if team is not None else Webhook.objects.filter(user=user)
    deleted, _ = owned.filter(pk=webhook_id).delete()
    return bool(deleted)


def email_subscription_set(*, user, team, subscribed):
    """A member turns the team's emails on or off for themselves."""
    if user_role(user, team) is None:
        raise PermissionDenied("Only the team's members get its emails.")
    if subscribed:
        EmailSubscription.objects.get_or_create(team=team, user=user)
    else:
        EmailSubscription.objects.filter(team=team, user=user).delete()
