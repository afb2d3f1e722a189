import secrets
from urllib.parse import urlsplit

from django.conf import settings
from django.db import models

from .fields import SealedTextField
from django.db.models import Q


class EventKind(models.TextChoices):
    PUSH_FAILED = "push_failed", "Push failed"
    TEARDOWN_FAILED = "teardown_failed", "Tear down failed"
    APPROVAL_NEEDED = "approval_needed", "Approval needed"
    APPROVED = "approved", "Request approved"
    REJECTED = "rejected", "Request rejected"
    BUDGET_80 = "budget_80", "Budget at 80 %"
    BUDGET_100 = "budget_100", "Budget at 100 %"
    DRIFT = "drift", "Drift detected"
    RUN_FINISHED = "run_finished", "Batch run finished"


class Webhook(models.Model):
    """A URL that receives every event of its team (or of its user, for personal ones), signed.

    The secret must be kept to sign with, so it is stored, encrypted like the URL; it is shown once, at
    creation, and never rendered, logged or exported afterwards.
    """

    team = models.ForeignKey("teams.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="webhooks")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE,
                             related_name="webhooks")
    name = models.CharField(max_length=100)
    url = SealedTextField()  # encrypted at rest (notifications/fields.py)
    secret = SealedTextField(editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "pk"]
        constraints = [models.CheckConstraint(
            condition=Q(team__isnull=False, user__isnull=True) | Q(team__isnull=True, user__isnull=False),
            name="webhook_has_one_owner")]

    def __str__(self):
        return self.name

    @property
    def url_display(self):
        """Scheme and host only: the path of a Slack webhook URL is itself a credential."""
        if not self.url:
            return "(unreadable: create the webhook again)"
        parts = urlsplit(self.url)
        host = (parts.hostname or "") + (f":{parts.port}" if parts.port else "")
        return f"{parts.scheme}://{host}/…" if parts.path.strip("/") else f"{parts.scheme}://{host}"

    @staticmethod
    def generate_secret():
        return "whsec_" + secrets.token_hex(24)


class EmailSubscription(models.Model):
    """A team member who wants the team's events by email (at the address of their account)."""

    team = models.ForeignKey("teams.Team", on_delete=models.CASCADE, related_name="email_subscriptions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["team", "user"], name="one_email_subscription_per_team")]


class Delivery(models.Model):
    """One message to one webhook or address, with what happened to it: the team's delivery log."""

    class Channel(models.TextChoices):
        WEBHOOK = "webhook", "Webhook"
        EMAIL = "email", "Email"

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    channel = models.CharField(max_length=10, choices=Channel.choices)
    webhook = models.ForeignKey(Webhook, null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries")
    address = models.EmailField(blank=True, help_text="The recipient of an email")
    team = models.ForeignKey("teams.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE,
                             related_name="+", help_text="The person a personal message is for")
    deployment = models.ForeignKey("deployments.Deployment", null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    event = models.CharField(max_length=20, choices=EventKind.choices)
    subject = models.CharField(max_length=200)
    payload = models.JSONField(help_text="The webhook's JSON body (the email's text is payload['text'])")
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["team", "-created_at"])]

    def __str__(self):
        return f"{self.event} by {self.channel} ({self.state})"
