"""The catalog snapshot, cached in the Django cache (Redis): every preview and create reads it, staff rarely
change it, and loading it costs a handful of queries.

A version token in the cache (one per database) names the current snapshot; each process also keeps the
snapshot of the token it saw last, so a hit costs one cache read and no unpickling. Any change of a row the
snapshot is made from (catalog/signals.py: catalog models, cluster records) replaces the token once its
transaction commits, so a snapshot read from the old rows meanwhile is never served again. A transaction that
changed the catalog reads it from the database until it commits, and stores nothing (what it sees may never
commit). A snapshot also expires after SNAPSHOT_TTL_SECONDS, the bound for writes that send no signal
(QuerySet.update, bulk_update: their callers call `catalog_snapshot_invalidate`), and when a dated CPU rate
comes into force. When the cache does not answer, the database is read, as before.

Within one unit of work (a web request, a Celery task: `version_pin_begin`/`version_pin_end`, connected by
catalog/apps.py and portal/celery.py) the version is read once, for at most PIN_SECONDS: a create reads the
snapshot and the price book, a push the cluster routes twice, and each read of the token is a Redis round trip
and a new redis-py client (Django's RedisCache builds one per call), about 0.2 ms of CPU. One version per unit
of work also means one consistent catalog per answer. A change this process commits replaces the pinned token
at once; another process's change is seen by the next unit of work, or after PIN_SECONDS in a long one.
"""

import hashlib
import logging
import threading
import time
import uuid
from dataclasses import fields

from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone

from .models import CpuRate
from .pricebook import PriceBook
from .selectors import catalog_snapshot
from .snapshot import Catalog, CpuPrice, Family, Gpu, RegionInfo

log = logging.getLogger(__name__)

SNAPSHOT_TTL_SECONDS = 60
PIN_SECONDS = 1.0
# The shape of the cached objects: a field added to catalog/snapshot.py gets new keys, never an old pickle.
SHAPE = hashlib.sha256(repr([(c.__name__, [f.name for f in fields(c)])
                             for c in (Catalog, Gpu, RegionInfo, Family, CpuPrice)]).encode()).hexdigest()[:12]

_local = threading.local()  # connection alias -> the outermost atomic block that changed the catalog
_pin = threading.local()  # active: inside a unit of work; version, read_at: the token read there
_memo = (None, None, 0.0)  # (cache key, snapshot, expires at): saves unpickling while the version stands
_derived = {}  # name -> (version key, value, expires at): see catalog_derived_cached


def catalog_snapshot_cached():
    """catalog.selectors.catalog_snapshot(), from the cache while no change has been made since it was read."""
    global _memo
    if _changed_in_transaction():
        return catalog_snapshot()
    try:
        key = f"{_prefix()}:snapshot:{SHAPE}:{_version()}"
        now = time.time()
        if _memo[0] == key and _memo[2] > now:
            return _memo[1]
        found = cache.get(key)
    except Exception:  # noqa: BLE001 - the cache is down: read the database rather than fail every create
        log.warning("catalog cache unavailable; catalog read from the database", exc_info=True)
        return catalog_snapshot()
    if found is not None and found[1] > now:
        _memo = (key, *found)
        return found[0]
    snapshot, expires = catalog_snapshot(), now + _seconds_valid()
    try:
        cache.set(key, (snapshot, expires), timeout=max(1, int(expires - now)))
    except Exception:  # noqa: BLE001
        log.warning("catalog snapshot not cached", exc_info=True)
        return snapshot
    _memo = (key, snapshot, expires)
    return snapshot


def catalog_derived_cached(name, loader):
    """loader(), kept in this process while the catalog version stands (and at most SNAPSHOT_TTL_SECONDS): for
    small values read from the rows the version covers (which cluster serves each region), where one cache read
    is cheaper than their query. The version is read before the rows, so rows older than it are never kept."""
    if _changed_in_transaction():
        return loader()
    try:
        key = f"{_prefix()}:{_version()}"
    except Exception:  # noqa: BLE001 - the cache is down: read the database
        log.warning("catalog cache unavailable; %s read from the database", name, exc_info=True)
        return loader()
    now = time.time()
    found = _derived.get(name)
    if found is not None and found[0] == key and found[2] > now:
        return found[1]
    value = loader()
    _derived[name] = (key, value, now + SNAPSHOT_TTL_SECONDS)
    return value


def price_book_cached():
    """Every GPU price and its history (catalog.pricebook.PriceBook), kept like the routes: each detail page and
    API answer prices a deployment, and the book answers for any moment, so time passing needs no reload."""
    return catalog_derived_cached("price-book", PriceBook)


def catalog_snapshot_invalidate(using=DEFAULT_DB_ALIAS):
    """The catalog changed: its transaction reads the database from now on, everyone else once it commits."""
    connection = connections[using]
    if connection.in_atomic_block:
        _dirty()[using] = connection.atomic_blocks[0]
    transaction.on_commit(lambda: _version_replace(using), using=using)  # at once outside a transaction


def _changed_in_transaction(using=DEFAULT_DB_ALIAS):
    connection = connections[using]
    marked = _dirty().get(using)
    return marked is not None and connection.in_atomic_block and connection.atomic_blocks[0] is marked


def _dirty():
    if not hasattr(_local, "dirty"):
        _local.dirty = {}
    return _local.dirty


def _prefix(using=DEFAULT_DB_ALIAS):
    """Keys per database: the demo, the tests and the benchmarks may share a Redis database, not a catalog."""
    db = connections[using].settings_dict
    return "catalog:" + hashlib.sha256(f"{db['HOST']}:{db['PORT']}/{db['NAME']}".encode()).hexdigest()[:12]


def version_pin_begin(**_):
    """A unit of work starts (signal receiver): the catalog version is read once in it."""
    _pin.active, _pin.version = True, None


def version_pin_end(**_):
    _pin.active, _pin.version = False, None


def _version():
    pinned = getattr(_pin, "active", False)
    if pinned and _pin.version is not None and time.monotonic() - _pin.read_at < PIN_SECONDS:
        return _pin.version
    key = f"{_prefix()}:version"
    version = cache.get(key)
    if version is None:
        cache.add(key, uuid.uuid4().hex, timeout=None)  # first use, or Redis lost it: whoever adds first
        version = cache.get(key)
    if pinned:
        _pin.version, _pin.read_at = version, time.monotonic()
    return version


def _version_replace(using=DEFAULT_DB_ALIAS):
    _pin.version = None  # this unit of work reads the new token
    try:
        cache.set(f"{_prefix(using)}:version", uuid.uuid4().hex, timeout=None)
    except Exception:  # noqa: BLE001 - the change stands; cached snapshots still expire after the TTL
        log.warning("catalog cache not invalidated; snapshots expire within %s s", SNAPSHOT_TTL_SECONDS,
                    exc_info=True)


def _seconds_valid():
    """The TTL, or less when a CPU rate dated in the future comes into force sooner (catalog.pricebook)."""
    now = timezone.now()
    upcoming = CpuRate.objects.filter(valid_from__gt=now).order_by("valid_from").values_list(
        "valid_from", flat=True).first()
    if upcoming is None:
        return SNAPSHOT_TTL_SECONDS
    return min(SNAPSHOT_TTL_SECONDS, max(1.0, (upcoming - now).total_seconds()))
