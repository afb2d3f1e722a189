"""The cache (portal/cache.py) is Django's Redis cache on the real Redis, reusing one redis-py client per pool."""

import uuid

from django.core.cache import caches

from portal.cache import RedisCache


def test_the_cache_stores_reads_counts_and_forgets_through_one_client():
    key, cache = f"test-cache-{uuid.uuid4().hex}", caches["default"]
    assert isinstance(cache, RedisCache)
    cache.set(key, {"version": 3}, timeout=30)
    assert cache.get(key) == {"version": 3}
    cache.set(f"{key}-n", 1, timeout=30)
    assert cache.incr(f"{key}-n") == 2
    cache.delete_many([key, f"{key}-n"])
    assert cache.get(key, "gone") == "gone"
    client = cache._cache.get_client(write=True)
    assert cache._cache.get_client(write=True) is client  # not a new redis.Redis (and its setup) per call
    assert client.ping()
