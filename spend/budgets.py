"""Team budgets: what is spent this month against the monthly budget, and the warning levels (80 %, 100 %)."""

from decimal import Decimal

from datetime import UTC, datetime, time

from django.db.models import Q, Sum
from django.utils import timezone

from formats.money import money as money_text
from notifications.models import EventKind
from notifications.services import notify_once
from teams.models import Team

from .metering import money
from .selectors import teams_month_to_date


def budget_level(spent, budget):
    """'ok', 'warn' (80% or more of the budget) or 'over' (100% or more)."""
    if not budget:
        return "over" if spent > 0 else "ok"
    ratio = spent / budget
    return "over" if ratio >= 1 else "warn" if ratio >= Decimal("0.8") else "ok"


def team_month_to_date(*, team, today=None):
    totals = teams_month_to_date([team.pk], today=today).get(team.pk, {})
    spent, budget = money(totals.get("month")), team.monthly_budget_usd
    return {
        "spent_usd": spent, "warm_usd": money(totals.get("warm")), "today_usd": money(totals.get("today")),
        "budget_usd": budget, "percent": int(spent * 100 / budget) if budget else (100 if spent else 0),
        "level": budget_level(spent, budget),
    }


def budget_alerts_send(*, today=None):
    """Tell each team once a month when its spend reaches 80 % and 100 % of its budget (one query, then
    one check per team at a level). Returns the kinds sent, as (team slug, kind)."""
    today = today or timezone.now().date()
    month_start = today.replace(day=1)
    teams = (Team.objects.filter(monthly_budget_usd__gt=0)
             .annotate(spent=Sum("daily_spend__cost_usd", filter=Q(daily_spend__day__gte=month_start,
                                                                    daily_spend__day__lte=today))))
    since = datetime.combine(month_start, time.min, tzinfo=UTC)
    sent = []
    for team in teams:
        spent = money(team.spent)
        level = budget_level(spent, team.monthly_budget_usd)
        kinds = {"warn": [EventKind.BUDGET_80], "over": [EventKind.BUDGET_80, EventKind.BUDGET_100]}.get(level, [])
        for kind in kinds:
            percent = 100 if kind == EventKind.BUDGET_100 else 80
            message = (f"Team {team.slug} has spent {money_text(spent)} of its {money_text(team.monthly_budget_usd)} "
                       f"monthly budget ({percent} % reached); new requests over budget wait for platform staff.")
            if notify_once(kind=kind, team=team, since=since, message=message,
                           data={"spent_usd": str(spent), "budget_usd": str(team.monthly_budget_usd)}):
                sent.append((team.slug, kind))
    return sent
