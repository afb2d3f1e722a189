"""What a team member sees of the team's notifications (never a secret)."""

from .models import Delivery, EmailSubscription, Webhook


def team_webhooks(team):
    return Webhook.objects.filter(team=team).select_related("created_by")


def team_deliveries(team, *, limit=50):
    """The team's delivery log: its webhooks' and subscribers' messages, newest first."""
    return Delivery.objects.filter(team=team).select_related("webhook", "deployment")[:limit]


def email_subscribed(user, team):
    return EmailSubscription.objects.filter(team=team, user=user).exists()


def personal_webhooks(user):
    return Webhook.objects.filter(user=user).select_related("created_by")


def personal_deliveries(user, *, limit=50):
    """Messages to the user's own webhooks and address (decisions on their requests, approval requests)."""
    return Delivery.objects.filter(user=user).select_related("webhook", "deployment")[:limit]
