"""Fixtures for the fault tests: Redis and PostgreSQL servers of their own, and helpers to point at them.

Tests here use real processes (a `celery worker`, `redis-server`, `postgres`) and kill them.
"""

from contextlib import contextmanager

import pytest
from django.db import connections
from kombu import pools

from portal.celery import app

from .processes import PostgresServer, RedisServer


def celery_pools_reset():
    """Drop this process's broker connections so the next publish connects to app.conf.broker_url."""
    # kombu keeps pools in a global registry keyed by URL: closing ours alone would leave a closed
    # pool there for the next publish to the same URL ("Acquire on closed pool").
    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


@contextmanager
def broker_at(url):
    saved = app.conf.broker_url
    app.conf.broker_url = url
    celery_pools_reset()
    try:
        yield
    finally:
        app.conf.broker_url = saved
        celery_pools_reset()


@pytest.fixture
def redis_server(settings):
    """A redis-server of this test's own, used as the broker (here and by workers) and as the cache."""
    server = RedisServer().start()
    settings.REDIS_URL = server.url  # the worker fixture passes it on as REDIS_URL
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": server.url}}
    with broker_at(server.url):
        yield server
    server.cleanup()


@pytest.fixture
def postgres_server(transactional_db):
    """The test database copied into a PostgreSQL cluster of this test's own, and used from here on.

    Request it before any fixture that creates rows. The default connection's settings dict is
    the one in settings.DATABASES, so worker subprocesses started afterwards use this server too.
    """
    server = PostgresServer().init()
    conn = connections["default"]
    db = conn.settings_dict
    source = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    server.database_copy(source_url=source, name=db["NAME"])
    saved = {"HOST": db["HOST"], "PORT": db["PORT"]}
    conn.close()
    db.update(HOST="127.0.0.1", PORT=str(server.port))
    try:
        yield server
    finally:
        conn.close()
        db.update(saved)
        server.cleanup()
