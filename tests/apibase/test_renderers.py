"""The API's orjson renderer writes the bytes DRF's JSONRenderer writes (apibase/renderers.py)."""

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal

import pytest
from django.db.models import TextChoices
from django.utils.translation import gettext_lazy
from rest_framework import renderers as drf

from apibase.renderers import JSONRenderer


class Phase(TextChoices):
    RUNNING = "running"


@dataclass
class Point:
    x: int


PAYLOADS = {
    "datetimes": {"utc": datetime(2026, 12, 4, 16, 2, 11, 123456, tzinfo=UTC),
                  "offset": datetime(2026, 12, 4, 17, 2, 11, tzinfo=timezone(timedelta(hours=1))),
                  "naive": datetime(2026, 12, 4, 16, 2, 11), "date": date(2026, 12, 4), "time": time(16, 2, 11, 5000)},
    "numbers": {"decimal": Decimal("1124.20"), "float": 0.1, "big": 2**62, "negative": -7, "bool": True},
    "text": {"unicode": "Zürich – 東京", "separators": "a\u2028b\u2029c", "quote": 'say "hi"\n', "lazy":
             gettext_lazy("Deployments"), "choice": Phase.RUNNING},
    "other": {"uuid": uuid.UUID("12345678-1234-5678-1234-567812345678"), "set": {3}, "tuple": (1, 2),
              "int keys": {1: "one", 2: "two"}, "none": None, "nested": [{"a": [{"b": []}]}]},
}


@pytest.mark.parametrize("name", list(PAYLOADS))
def test_the_same_bytes_as_drfs_json_renderer(name):
    assert JSONRenderer().render(PAYLOADS[name]) == drf.JSONRenderer().render(PAYLOADS[name])


def test_indented_output_is_drfs():
    data = {"a": [1, {"b": 2}]}
    indented = JSONRenderer().render(data, "application/json; indent=4")
    assert indented == drf.JSONRenderer().render(data, "application/json; indent=4")
    assert b'\n    "a"' in indented


def test_an_integer_beyond_64_bits_is_written_as_drf_writes_it():
    assert JSONRenderer().render({"n": 2**70}) == b'{"n":1180591620717411303424}'


def test_what_drf_cannot_write_fails_as_it_does():
    with pytest.raises(TypeError):
        JSONRenderer().render({"point": Point(1)})
    with pytest.raises(TypeError):
        drf.JSONRenderer().render({"point": Point(1)})


def test_no_data_is_an_empty_body():
    assert JSONRenderer().render(None) == b""
