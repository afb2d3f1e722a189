"""The deployment list's items built straight from `.values()` rows, exactly as DeploymentSerializer would.

DeploymentSerializer stays the declaration (the OpenAPI schema, the detail view); at 200 a page its
per-field machinery cost more than the query. tests/deployments/test_api_listing.py holds the two outputs
equal, field by field, for the same rows.
"""

from datetime import timezone as dt_timezone

from django.conf import settings
from rest_framework.fields import DateTimeField
from rest_framework.settings import ISO_8601, api_settings

from specs.vocabulary import Status

from ..selectors_list import LIST_COLUMNS
from ..state import FINAL_STATUSES


def _datetime_formatter():
    """DateTimeField.to_representation, inlined for its usual case: ISO 8601 in the current zone, `Z` for UTC."""
    field = DateTimeField()
    output = api_settings.DATETIME_FORMAT
    if not (settings.USE_TZ and isinstance(output, str) and output.lower() == ISO_8601):
        return field.to_representation
    zone = field.default_timezone()
    # PostgreSQL's timestamps arrive in UTC (Django sets the connection's zone): in a UTC portal they need no
    # conversion, which was a third of the formatting of a 200-row page (600 datetimes).
    utc_portal = getattr(zone, "key", None) == "UTC"

    def formatted(value):
        if not value:
            return None
        if not (utc_portal and value.tzinfo is dt_timezone.utc):
            value = value.astimezone(zone)
        text = value.isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text

    return formatted


class ListedRows:
    """A filtered, ordered Deployment queryset as the paginator takes it: counted as it is (planning the joins
    that `.values()` adds took longer than counting), each page read as rows of LIST_COLUMNS."""

    def __init__(self, queryset):
        self.queryset = queryset
        self.ordered = queryset.ordered

    def count(self):
        return self.queryset.count()

    def __getitem__(self, index):
        return self.queryset.values(*LIST_COLUMNS)[index]


def deployment_list_items(rows):
    """DeploymentSerializer(many=True).data for rows of deployments.selectors_list.LIST_COLUMNS."""
    when = _datetime_formatter()
    return [{
        "id": r["id"],
        "name": r["name"],
        "team": r["team__slug"],
        "workload": r["workload"],
        "target": r["target"],
        "status": {
            "phase": r["status"],
            "message": r["status_message"],
            "ready_pods": r["ready_pods"],
            "total_pods": r["total_pods"],
            "scaled_to_zero": r["status"] == Status.SCALED_TO_ZERO,
            "url": r["url"] or None,
            "last_synced_at": when(r["last_synced_at"]),
            "final": r["status"] in FINAL_STATUSES,
        },
        "revision": r["current_revision__number"],
        "applied_revision": r["applied_revision"],
        "gpu_class": r["gpu_class"],
        "region": r["region"],
        "gpus_per_replica": r["gpus_per_replica"],
        "approval_reason": r["approval_reason"],
        "created_at": when(r["created_at"]),
        "updated_at": when(r["updated_at"]),
    } for r in rows]
