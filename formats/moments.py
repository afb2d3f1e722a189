"""A moment as "5 Mar 2025, 14:03 UTC" (in the current time zone, named) and a day as "5 Mar 2025".

The format strings are Django's DATETIME_FORMAT and DATE_FORMAT from portal/formats/en/formats.py
(FORMAT_MODULE_PATH), the same ones the admin uses for every date and time it shows: one place for both.
"""

from datetime import date, datetime

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format


def _parsed(value):
    # Kubernetes and JSON give times as ISO strings ("2025-03-05T14:03:07Z").
    return parse_datetime(value) if isinstance(value, str) else value


def moment(value):
    """'5 Mar 2025, 14:03 UTC' in the current time zone; a date alone: '5 Mar 2025'; nothing: ''."""
    value = _parsed(value)
    if isinstance(value, datetime):
        if timezone.is_naive(value):
            value = timezone.make_aware(value, timezone.get_current_timezone())
        return date_format(timezone.localtime(value), "DATETIME_FORMAT")
    return day(value)


def day(value):
    """'5 Mar 2025' (a moment's day in the current time zone); nothing: ''."""
    value = _parsed(value)
    if isinstance(value, datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
    return date_format(value, "DATE_FORMAT") if isinstance(value, date) else ""
