"""Formatting for money and durations on the dashboard and the deployment page."""

from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django import template

register = template.Library()


@register.filter
def usd(value):
    """$1,234.56 (two decimals; below a cent but above zero shows <$0.01)."""
    try:
        amount = Decimal(value or 0)
    except (InvalidOperation, TypeError, ValueError):
        return ""
    if 0 < amount < Decimal("0.01"):
        return "<$0.01"
    return f"${amount:,.2f}"


@register.filter
def duration(value):
    """A timedelta or seconds as '2h 05m', '12m 30s' or '45s'."""
    if value is None or value == "":
        return "—"
    seconds = int(value.total_seconds() if isinstance(value, timedelta) else value)
    seconds = max(seconds, 0)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours:02d}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"
