"""The cache backend: Django's Redis cache, keeping one redis-py client per connection pool.

Django's RedisCacheClient builds a new `redis.Redis` around its pool for every cache call; redis-py's constructor
(its table of response callbacks) was more than half of the ~0.9 ms of CPU a cache GET cost here, and every web
request and task makes one (the catalog's version, catalog/cache.py) and every API call another (the throttle,
teams/auth.py). A client holds no connection of its own (the pool does, and redis-py's pool starts afresh in a
forked worker process), so one per pool is safe to share.
"""

from django.core.cache.backends import redis as django_redis


class RedisCacheClient(django_redis.RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            client = self._clients[index] = self._client(connection_pool=self._get_connection_pool(write))
        return client


class RedisCache(django_redis.RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient
