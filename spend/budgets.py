"""Team budgets: what is spent this month against the monthly budget, and the warning levels (80 %, 100 %)."""

from decimal import Decimal

from django.db.models import Q, Sum
from django.utils import timezone

from .metering import money
from .models import DailySpend


def budget_level(spent, budget):
    """'ok', 'warn' (80% or more of the budget) or 'over' (100% or more)."""
    if not budget:
        return "over" if spent > 0 else "ok"
    ratio = spent / budget
    return "over" if ratio >= 1 else "warn" if ratio >= Decimal("0.8") else "ok"


def team_month_to_date(*, team, today=None):
    today = today or timezone.now().date()
    totals = DailySpend.objects.filter(team=team, day__gte=today.replace(day=1), day__lte=today).aggregate(
        cost=Sum("cost_usd"), warm=Sum("warm_cost_usd"), today=Sum("cost_usd", filter=Q(day=today))
    )
    spent, budget = money(totals["cost"]), team.monthly_budget_usd
    return {
        "spent_usd": spent, "warm_usd": money(totals["warm"]), "today_usd": money(totals["today"]),
        "budget_usd": budget, "percent": int(spent * 100 / budget) if budget else (100 if spent else 0),
        "level": budget_level(spent, budget),
    }
