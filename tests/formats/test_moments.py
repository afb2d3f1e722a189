"""One date-time format, with its time zone, in the pages, the admin and the audit log (formats/moments.py reads
Django's DATETIME_FORMAT and DATE_FORMAT from portal/formats/en/formats.py, which the admin uses too)."""

from datetime import UTC, date, datetime

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone

from audit.models import Event
from audit.services import event_record
from formats.moments import day, moment

AT = datetime(2025, 3, 5, 14, 3, 7, tzinfo=UTC)


def test_a_page_writes_a_moment_and_a_day_the_one_way():
    assert moment(AT) == "5 Mar 2025, 14:03 UTC" and day(AT) == "5 Mar 2025"
    assert moment(date(2025, 3, 5)) == "5 Mar 2025" and moment(None) == ""
    page = Template("{% load gantry_format %}{{ at|when }} | {{ at|day }} | {{ at }}").render(Context({"at": AT}))
    assert page == "5 Mar 2025, 14:03 UTC | 5 Mar 2025 | 5 Mar 2025, 14:03 UTC"  # {{ at }}: Django's own format
    with timezone.override("America/Chicago"):
        assert moment(AT) == "5 Mar 2025, 08:03 CST"


@pytest.mark.django_db
def test_the_audit_log_in_the_admin_shows_the_same_moment(login, staff):
    event = event_record(kind=Event.Kind.CATALOG, actor=staff, message="A40 price changed")
    Event.objects.filter(pk=event.pk).update(created_at=AT)
    client = login(staff)
    listing = client.get(reverse("admin:audit_event_changelist")).content.decode()
    assert "5 Mar 2025, 14:03 UTC" in listing
    detail = client.get(reverse("admin:audit_event_change", args=[event.pk])).content.decode()
    assert "5 Mar 2025, 14:03 UTC" in detail
    assert "March 5, 2025" not in listing + detail  # Django's stock English format is gone
