"""One way to write money, moments and spec words on every page (deployments/templatetags/gantry_format.py)."""

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import timezone

from deployments.templatetags.gantry_format import ago, moment, plain
from specs.formats import money, money_rate
from specs.schema import FIELDS
from specs.validation import spec_validate
from tests.factories import batch_spec, online_spec


@pytest.mark.parametrize("value,text", [
    (Decimal("1234.56"), "$1,234.56"), (1234.5, "$1,234.50"), (0, "$0.00"), (None, "$0.00"),
    (Decimal("0.004"), "<$0.01"), (Decimal("0.005"), "$0.01"), (-3, "−$3.00"),
])
def test_amounts_are_dollars_and_cents_with_thousands(value, text):
    assert money(value) == text


@pytest.mark.parametrize("value,text", [
    (Decimal("0.0125"), "$0.0125"), (Decimal("2.2100"), "$2.21"), (Decimal("0.035"), "$0.035"),
    (Decimal("1.5"), "$1.50"), (Decimal("1234.5"), "$1,234.50"), (Decimal("0.00004"), "<$0.0001"),
])
def test_prices_per_hour_keep_the_cents_that_matter(value, text):
    assert money_rate(value) == text


def test_a_moment_names_its_time_zone_and_a_minute_old_sync_is_just_now(settings):
    at = datetime(2025, 3, 5, 14, 3, 7, tzinfo=UTC)
    assert moment(at) == "5 Mar 2025, 14:03 UTC"
    assert moment("2025-03-05T14:03:07Z") == "5 Mar 2025, 14:03 UTC"  # Kubernetes events' timestamps
    with timezone.override("Europe/Berlin"):
        assert moment(at) == "5 Mar 2025, 15:03 CET"
    now = timezone.now()
    assert ago(now - timedelta(seconds=20)) == "just now" and ago(now + timedelta(seconds=2)) == "just now"
    assert ago(now - timedelta(minutes=5, seconds=3)) == "5\xa0minutes ago"  # timesince's no-break space


def test_spec_messages_name_fields_by_their_wizard_labels_without_markdown():
    assert plain("Set `models_per_gpu` to 1.") == "Set “Models per GPU” to 1."
    assert plain("Give `s3://<bucket>/<path>` or leave `compute.gpu_class` out.") == (
        "Give <code>s3://&lt;bucket&gt;/&lt;path&gt;</code> or leave “GPU class” out.")
    assert plain("<b>`x`") == "&lt;b&gt;<code>x</code>"  # escaped: a message may quote what a user typed
    page = Template("{% load gantry_format %}{{ m|plain }}").render(Context({"m": "`scaling.min_replicas` too"}))
    assert page == "“Minimum replicas” too"


def _bad_specs():
    """Specs with one mistake each, across the sections a page shows messages for."""
    yield online_spec(models_per_gpu=2, request_queue=True, region_preference="closest-to-users")
    yield online_spec(scaling={"min_replicas": 3, "max_replicas": 1, "scale_to_zero_retention": "2h"})
    yield online_spec(compute={"accelerator": "cpu", "gpu_class": "A40", "memory_gi": 1})
    yield online_spec(runtime={"kind": "tgi", "image": "x:1", "command": ["serve"], "timeout_seconds": 900})
    yield online_spec(storage={"tier": "nvme-pvc"}, compute={"gpu_class": "A40", "gpus_per_replica": 1})
    yield batch_spec(batch={"inputs_uri": "", "outputs_uri": "s3://x y", "parallelism": 0})


def test_no_message_a_page_shows_keeps_a_spec_path_or_a_backtick(team):
    from catalog.selectors import catalog_snapshot

    paths = [f.path for f in FIELDS if "." in f.path]
    seen = 0
    for spec in _bad_specs():
        result = spec_validate(spec, catalog=catalog_snapshot(), teams={"nlp"})
        for issue in [*result.errors, *result.warnings]:
            shown = re.sub(r"<code>.*?</code>", "", plain(issue.message))
            assert "`" not in shown and not [p for p in paths if p in shown], issue
            seen += 1
    assert seen >= 12
