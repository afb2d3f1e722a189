"""Catalog writes. Prices are history: a change never rewrites what past usage cost."""

from datetime import datetime, timezone
from decimal import Decimal

from django.db import transaction
from django.utils import timezone as dj_timezone

from audit.models import Event
from audit.services import event_record
from formats.money import money_rate
from formats.moments import moment

from .models import GpuClass, GpuPrice

# Where the price in force "since forever" is recorded when a class has no history yet.
BEGINNING = datetime(2000, 1, 1, tzinfo=timezone.utc)


@transaction.atomic
def gpu_price_set(*, user, gpu_class, price, valid_from=None, note=""):
    """Record a new price per GPU-hour valid from `valid_from` (default: now); audited.

    Spend is priced with `gpu_price_at(class, instant)`, so usage before `valid_from` keeps
    the old price and usage after it gets the new one. The catalog's current price follows
    as soon as the new price is in force (a future-dated price waits for its date).
    """
    now = dj_timezone.now()
    valid_from = valid_from or now
    price = Decimal(str(price))
    gpu_class = GpuClass.objects.select_for_update().get(pk=gpu_class.pk)
    old_price = gpu_class.price_per_gpu_hour
    if not GpuPrice.objects.filter(gpu_class=gpu_class, valid_from__lt=valid_from).exists():
        # Without a row before the change, past lookups would fall back to the (new) catalog price.
        GpuPrice.objects.get_or_create(
            gpu_class=gpu_class, valid_from=BEGINNING,
            defaults={"price_per_gpu_hour": old_price, "note": "price before the first recorded change"},
        )
    row, _ = GpuPrice.objects.update_or_create(
        gpu_class=gpu_class, valid_from=valid_from,
        defaults={"price_per_gpu_hour": price, "note": note or f"set by {user.get_username()}"},
    )
    if valid_from <= now:
        GpuClass.objects.filter(pk=gpu_class.pk).update(price_per_gpu_hour=price)
        gpu_class.price_per_gpu_hour = price
    event_record(
        kind=Event.Kind.CATALOG,
        actor=user,
        message=(f"{gpu_class.name} price {money_rate(old_price)}/GPU-hour → {money_rate(price)}/GPU-hour "
                 f"from {moment(valid_from)}"),
        data={
            "gpu_class": gpu_class.name,
            "diff": [{"field": "price_per_gpu_hour", "old": str(old_price), "new": str(price)}],
            "valid_from": valid_from.isoformat(),
        },
    )
    return row
