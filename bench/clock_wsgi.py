"""portal.wsgi with the benchmarks' settable clock, for gunicorn in bench_load: django.utils.timezone.now runs
BENCH_CLOCK_OFFSET seconds ahead (support.clock_offset: the month's last day), as in the benchmark's own process.
Set before Django loads anything, so every module's `timezone.now()` sees it."""

import os
from datetime import timedelta

from django.utils import timezone

_real, _shift = timezone.now, timedelta(seconds=float(os.environ.get("BENCH_CLOCK_OFFSET", "0")))
timezone.now = lambda: _real() + _shift

from portal.wsgi import application  # noqa: E402 (after the clock is set)

__all__ = ["application"]
