"""The price book: the one answer to "what did a GPU-hour of this class (or a vCPU-hour and a GB-hour on
CPU nodes) cost at time t".

Prices are history (catalog.services.gpu_price_set only adds rows, CpuRate rows likewise), so usage
before a change keeps the old price. Spend meters with a PriceBook; single look-ups use gpu_price_at
and cpu_rate_at.
"""

from bisect import bisect_right
from collections import defaultdict
from decimal import Decimal
from functools import cached_property

from django.utils import timezone

from .models import CpuRate, GpuClass, GpuPrice

ZERO = Decimal(0)


class PriceBook:
    """Every GPU price change, loaded in one query; price_at() bisects, split_points() lists changes in a span."""

    def __init__(self, class_names=None):
        classes = GpuClass.objects.all()
        history = GpuPrice.objects.order_by("valid_from")
        if class_names is not None:
            classes, history = classes.filter(name__in=class_names), history.filter(gpu_class__name__in=class_names)
        self.current = dict(classes.values_list("name", "price_per_gpu_hour"))
        self.changes = defaultdict(list)
        for name, valid_from, price in history.values_list("gpu_class__name", "valid_from", "price_per_gpu_hour"):
            self.changes[name].append((valid_from, price))

    def price_at(self, gpu_class, at):
        rows = self.changes.get(gpu_class)
        if rows:
            i = bisect_right(rows, at, key=lambda r: r[0])
            if i:
                return rows[i - 1][1]
        return self.current.get(gpu_class) or ZERO

    def price_now(self, gpu_class):
        return self.price_at(gpu_class, timezone.now())

    def split_points(self, gpu_class, start, end):
        return [at for at, _ in self.changes.get(gpu_class, ()) if start < at < end]

    @cached_property
    def cpu_changes(self):
        """[(valid_from, per vCPU-hour, per GB-hour)]: read on first use, so GPU-only callers pay no query."""
        return list(CpuRate.objects.order_by("valid_from")
                    .values_list("valid_from", "price_per_vcpu_hour", "price_per_gb_hour"))

    def cpu_rate_at(self, at):
        """(per vCPU-hour, per GB-hour) in force at `at`; zeros before the first CPU rate."""
        i = bisect_right(self.cpu_changes, at, key=lambda r: r[0])
        return self.cpu_changes[i - 1][1:] if i else (ZERO, ZERO)

    def cpu_split_points(self, start, end):
        return [at for at, *_ in self.cpu_changes if start < at < end]


def gpu_price_at(gpu_class_name, at):
    """Price per GPU-hour of one class in force at `at` (the catalog price when no history row covers it)."""
    return PriceBook([gpu_class_name]).price_at(gpu_class_name, at)


def cpu_rate_at(at):
    """The CPU rate (catalog.models.CpuRate) in force at `at`, or None before the first one."""
    return CpuRate.objects.filter(valid_from__lte=at).order_by("-valid_from").first()
