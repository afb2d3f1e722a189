"""One attempt to deliver one message: a signed POST to a webhook, or an email through Django's backend.

The webhook body is Slack-compatible JSON (`text`, plus Gantry's structured `gantry` object and a
`timestamp`). It is signed with HMAC-SHA256 over the raw body bytes with the webhook's secret:

    X-Gantry-Signature: sha256=<hex digest>
    X-Gantry-Timestamp: <unix seconds, the same value as the body's "timestamp">
    X-Gantry-Event: <event kind>          X-Gantry-Delivery: <delivery id, the same on every retry>

A receiver recomputes the digest over the body it read, compares in constant time, and refuses a
timestamp older than a few minutes (it is inside the signed body, so it cannot be replaced).
Secrets and webhook URLs (Slack's carry a token) never go into logs or the delivery log.
"""

import hashlib
import hmac
import ipaddress
import json
import logging
import socket
import time
import urllib.error
import urllib.request
from typing import NamedTuple
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from .models import Delivery

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
SIGNATURE_HEADER = "X-Gantry-Signature"
TIMESTAMP_HEADER = "X-Gantry-Timestamp"


class Outcome(NamedTuple):
    state: str
    attempts: int
    retry: bool


class _Refused(Exception):
    """A failure that another attempt cannot fix (a private address, a 4xx other than 408/429)."""

    def __init__(self, message, code=None):
        super().__init__(message)
        self.code = code


def retry_delay(attempts):
    """Seconds before the next attempt: 15 s, 30 s, 1 min, 2 min, … at most 10 min."""
    return min(600, 15 * 2 ** max(attempts - 1, 0))


def body_sign(secret, body):
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a redirect is answered as the 3xx it is: the signed body goes nowhere else


_opener = urllib.request.build_opener(_NoRedirect)


def _address_check(url):
    """Refuse webhooks into the platform's own network (the cluster API, metadata services) unless allowed."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _Refused("the URL is not http(s)")
    if getattr(settings, "NOTIFICATIONS_ALLOW_PRIVATE_WEBHOOKS", False):
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
    except socket.gaierror as exc:
        raise ConnectionError(f"cannot resolve the host ({exc.strerror})") from None
    for info in infos:
        if not ipaddress.ip_address(info[4][0]).is_global:
            raise _Refused("the host resolves to a private address (NOTIFICATIONS_ALLOW_PRIVATE_WEBHOOKS is off)")


def _webhook_post(delivery):
    webhook = delivery.webhook
    if webhook is None:
        raise _Refused("the webhook was deleted")
    if webhook.url is None or webhook.secret is None:
        raise _Refused("its URL or secret can no longer be read (SECRET_KEY changed?): create the webhook again")
    _address_check(webhook.url)
    timestamp = str(int(time.time()))
    body = json.dumps({**delivery.payload, "timestamp": int(timestamp)}, separators=(",", ":")).encode()
    request = urllib.request.Request(webhook.url, data=body, method="POST", headers={
        "Content-Type": "application/json", "User-Agent": "Gantry-Webhooks/1",
        SIGNATURE_HEADER: body_sign(webhook.secret, body), TIMESTAMP_HEADER: timestamp,
        "X-Gantry-Event": delivery.event, "X-Gantry-Delivery": str(delivery.pk),
    })
    timeout = getattr(settings, "NOTIFICATIONS_WEBHOOK_TIMEOUT", 5)
    try:
        with _opener.open(request, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        exc.close()
        if 400 <= exc.code < 500 and exc.code not in (408, 429):
            raise _Refused(f"the receiver answered {exc.code}", code=exc.code) from None
        return exc.code


def _email_send(delivery):
    send_mail(delivery.subject, delivery.payload.get("text", ""), None, [delivery.address])


def delivery_attempt(*, delivery_id):
    """Try a pending delivery once and record the result; `retry` says whether another attempt is due."""
    with transaction.atomic():
        # Locked while sending, so a duplicated task message cannot send twice at once.
        delivery = (Delivery.objects.select_for_update(skip_locked=True, of=("self",)).select_related("webhook")
                    .filter(pk=delivery_id, state=Delivery.State.PENDING).first())
        if delivery is None:
            return Outcome(state="", attempts=0, retry=False)
        delivery.attempts += 1
        status_code, error, permanent = None, "", False
        try:
            if delivery.channel == Delivery.Channel.WEBHOOK:
                status_code = _webhook_post(delivery)
                if not 200 <= status_code < 300:
                    error = f"the receiver answered {status_code}"
            else:
                _email_send(delivery)
        except _Refused as exc:
            error, permanent = str(exc), True
            status_code = exc.code
        except Exception as exc:  # network, TLS, SMTP: all worth another attempt
            error = f"{type(exc).__name__}: {exc}"
        delivery.status_code = status_code
        delivery.last_error = error[:500]
        if not error:
            delivery.state, delivery.delivered_at = Delivery.State.DELIVERED, timezone.now()
        elif permanent or delivery.attempts >= MAX_ATTEMPTS:
            delivery.state = Delivery.State.FAILED
        delivery.save(update_fields=["attempts", "status_code", "last_error", "state", "delivered_at", "updated_at"])
    if error:
        log.warning("notification delivery %s (%s, %s) attempt %s failed: %s", delivery.pk, delivery.channel,
                    delivery.event, delivery.attempts, delivery.last_error)
    return Outcome(state=delivery.state, attempts=delivery.attempts,
                   retry=delivery.state == Delivery.State.PENDING)
