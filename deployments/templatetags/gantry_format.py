"""How Gantry writes money, times and spec words, in every page: `{% load gantry_format %}`.

One format each, so two pages never show the same figure two ways:
- money: $1,234.56 (amounts); prices per hour keep the digits below a cent that matter, up to 4
  decimals ($0.0125/h, $2.21/h): formats/money.py, which the spec's messages and the audit log use too;
- a moment: "5 Mar 2025, 14:03 UTC" (in the current time zone, named); a day: "5 Mar 2025": formats/moments.py,
  with the admin's own DATETIME_FORMAT and DATE_FORMAT (portal/formats/en/formats.py);
- "just now" for under a minute, else "5 minutes ago";
- spec messages (written for the API, with `field.paths` in backticks) shown with the wizard's labels.

Code that formats outside a template (form choices, the admin, audit messages) calls `money`, `money_rate`
(formats/money.py) and `moment` (formats/moments.py) itself.
"""

import re
from datetime import datetime, timedelta

from django import template
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.timesince import timesince

from formats.money import money, money_rate
from formats.moments import day as day_text
from formats.moments import moment
from specs.schema import FIELDS

register = template.Library()


def _as_moment(value):
    if isinstance(value, str):
        value = parse_datetime(value)
    return value


@register.filter(name="usd")
def usd_filter(value):
    return money(value)


@register.filter(name="usd_rate")
def usd_rate_filter(value):
    return money_rate(value)


@register.filter(name="when")
def when_filter(value):
    return moment(value)


@register.filter
def day(value):
    """'5 Mar 2025'."""
    return day_text(value)


@register.filter
def ago(value, now=None):
    """'just now' under a minute (and for a clock slightly ahead), else '5 minutes ago'."""
    value = _as_moment(value)
    if not isinstance(value, datetime):
        return ""
    now = now or timezone.now()
    if now - value < timedelta(minutes=1):
        return "just now"
    return f"{timesince(value, now)} ago"


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


# --- Spec words ----------------------------------------------------------------------------------
# The spec's messages name fields by path for API users (`compute.gpu_class`); a page names them
# the way the wizard asks (“GPU class”). The labels are specs/schema.py's.
LABELS = {f.path: f.label for f in FIELDS}
CHOICES = {f.path: dict(f.choices) for f in FIELDS if f.choices}
_CODE = re.compile(r"`([^`\n]+)`")


@register.filter
def plain(text):
    """A spec message as a page shows it: `field.path` → “Label”, other `code` → <code>code</code>."""
    text = "" if text is None else str(text)
    parts, last = [], 0
    for match in _CODE.finditer(text):
        parts.append(escape(text[last:match.start()]))
        inner = match.group(1)
        label = LABELS.get(inner)
        parts.append(f"“{escape(label)}”" if label else f"<code>{escape(inner)}</code>")
        last = match.end()
    parts.append(escape(text[last:]))
    return mark_safe("".join(parts))


@register.filter
def field_label(path):
    """The wizard's label of a spec path ('compute.gpu_class' → 'GPU class'); an unknown path as it is."""
    return LABELS.get(path, path)


@register.filter
def choice_label(value, path):
    """The words for a value of a choice field ('accelerated-object' → 'Accelerated object storage')."""
    return CHOICES.get(path, {}).get(value, value)
