"""The price book: the one answer to "what did a GPU-hour of this class cost at time t".

Prices are history (catalog.services.gpu_price_set only adds rows), so usage before a change
keeps the old price. Spend meters with a PriceBook; single look-ups use gpu_price_at.
"""

from bisect import bisect_right
from collections import defaultdict
from decimal import Decimal

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


def gpu_price_at(gpu_class_name, at):
    """Price per GPU-hour of one class in force at `at` (the catalog price when no history row covers it)."""
    return PriceBook([gpu_class_name]).price_at(gpu_class_name, at)


def cpu_rate_at(at):
    """The CPU rate (catalog.models.CpuRate) in force at `at`, or None before the first one."""
    return CpuRate.objects.filter(valid_from__lte=at).order_by("-valid_from").first()
