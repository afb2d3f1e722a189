from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from teams.models import Role
from teams.selectors import teams_for_user, user_role

from .selectors import email_subscribed, personal_deliveries, personal_webhooks, team_deliveries, team_webhooks
from .services import email_subscription_set, webhook_create, webhook_delete


@login_required
@require_http_methods(["GET", "POST"])
def my_notifications(request):
    """The user's own webhooks (decisions on their requests; approval requests for staff) and their log."""
    return team_notifications(request, slug=None)


@login_required
@require_http_methods(["GET", "POST"])
def team_notifications(request, slug):
    """The team's webhooks, the member's own email choice and the delivery log. A new secret is shown once.

    slug=None: the user's own page (my_notifications), the same forms without the team's parts.
    """
    team = get_object_or_404(teams_for_user(request.user), slug=slug) if slug else None  # outsiders: 404
    page = ("team-notifications", {"slug": slug}) if team else ("my-notifications", {})
    new_secret, new_webhook, error, status = None, None, None, 200
    if request.method == "POST":
        action = request.POST.get("action", "add")
        try:
            if action == "add":
                new_webhook, new_secret = webhook_create(user=request.user, team=team,
                                                         name=request.POST.get("name", ""),
                                                         url=request.POST.get("url", ""))
                status = 201
            elif action == "delete":
                webhook_delete(user=request.user, team=team, webhook_id=request.POST.get("webhook", "0"))
                return redirect(page[0], **page[1])
            elif action in ("subscribe", "unsubscribe"):
                email_subscription_set(user=request.user, team=team, subscribed=action == "subscribe")
                return redirect(page[0], **page[1])
        except PermissionDenied as exc:
            error, status = str(exc), 403
        except (ValidationError, ValueError) as exc:
            messages = getattr(exc, "message_dict", None)
            error = " ".join(sum(messages.values(), [])) if messages else " ".join(getattr(exc, "messages", [str(exc)]))
            status = 400
    response = render(request, "notifications/team.html", {
        "team": team, "webhooks": team_webhooks(team) if team else personal_webhooks(request.user),
        "deliveries": team_deliveries(team) if team else personal_deliveries(request.user),
        "is_owner": user_role(request.user, team) == Role.OWNER if team else True,
        "subscribed": email_subscribed(request.user, team) if team else False,
        "new_secret": new_secret, "new_webhook": new_webhook, "error": error,
        "form": request.POST if error else {},
    }, status=status)
    if new_secret:
        response["Cache-Control"] = "no-store"  # the secret must not linger in a cache or the history
    return response
