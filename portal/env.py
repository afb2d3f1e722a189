"""Small helpers that read settings from the environment and fail loudly.

A bad value stops start-up with a message that names the variable, instead of
letting the portal run half-configured.
"""

import ipaddress
import os
from urllib.parse import urlparse

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name, default=None, *, required=False):
    file_path = os.environ.get(f"{name}_FILE")
    if file_path:
        try:
            with open(file_path, encoding="utf-8") as fh:
                return fh.read().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE: cannot read {file_path!r}: {exc.strerror}") from exc
    value = os.environ.get(name)
    if value is None:
        if required:
            raise ImproperlyConfigured(f"{name} is required but not set")
        return default
    return value


def env_bool(name, default=False):
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean: use one of 1/0, true/false, yes/no, on/off")


def env_int(name, default, *, minimum=None):
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={value} must be at least {minimum}")
    return value


def env_float(name, default, *, minimum=None):
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        value = float(raw.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a number") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={value} must be at least {minimum}")
    return value


def env_list(name, default):
    raw = os.environ.get(name)
    if raw is None:
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_networks(name, default=()):
    """A comma-separated list of IP addresses or networks (10.0.0.0/8, ::1) -> ip_network objects."""
    networks = []
    for item in env_list(name, default):
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ImproperlyConfigured(f"{name}: {item!r} is not an IP address or network (e.g. 10.0.0.0/8)") from None
    return networks


def parse_database_url(name, url):
    """postgres://user:pass@host:port/dbname?sslmode=verify-full -> Django DATABASES entry.

    dj-database-url reads the URL and puts its query parameters in OPTIONS (dj-database-url 3.1,
    dj_database_url/__init__.py parse), which Django passes to libpq: sslmode, sslrootcert, connect_timeout ...
    """
    parsed = urlparse(url)
    if parsed.scheme not in ("postgres", "postgresql", "pgsql"):
        raise ImproperlyConfigured(
            f"{name}={url!r}: only PostgreSQL is supported; use postgres://user@host:port/dbname"
        )
    try:
        parsed.port
    except ValueError:
        raise ImproperlyConfigured(f"{name}={url!r} has an invalid port") from None
    try:
        db = dj_database_url.parse(url, conn_max_age=0, conn_health_checks=True)
    except ValueError as exc:  # dj-database-url's ParseError
        raise ImproperlyConfigured(f"{name}={url!r} is not a database URL: {exc}") from None
    if not db["NAME"]:
        raise ImproperlyConfigured(f"{name}={url!r} names no database; add /dbname at the end")
    options = db.setdefault("OPTIONS", {})
    options.setdefault("connect_timeout", 5)
    db["USER"] = db["USER"] or "postgres"
    if not db["HOST"] and "host" not in options:  # ?host=/run/postgresql names a socket directory instead
        db["HOST"] = "127.0.0.1"
    db["PORT"] = str(db["PORT"] or 5432)
    return db


def prepared_statements(name, default):
    """Server-side binding and prepared statements (Django 6.1, ref/databases "Server-side parameters binding";
    psycopg 3 docs, advanced/prepare: a query is prepared after it ran more than `prepare_threshold` times on
    a connection). The portal runs the same few statements over and over: the 200-create push bench spent
    3.8 ms of PostgreSQL CPU per deployment parsing and planning them, 2.2 ms prepared. `off` behind a pooler in
    transaction mode that cannot keep prepared statements (PgBouncer before 1.21, or without
    max_prepared_statements: pgbouncer.org changelog, 1.21.0 "protocol-level named prepared statements"): the
    parameters are then bound client-side, as Django does by default."""
    raw = os.environ.get(name)
    value = str(default) if raw is None else raw.strip().lower()
    if value in ("off", "none"):
        return {}
    try:
        threshold = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is neither a number of runs nor 'off'") from None
    if threshold < 0:
        raise ImproperlyConfigured(f"{name}={threshold} must be at least 0, or 'off'")
    return {"server_side_binding": True, "prepare_threshold": threshold}


def check_redis_url(name, url):
    parsed = urlparse(url)
    if parsed.scheme not in ("redis", "rediss", "unix"):
        raise ImproperlyConfigured(f"{name}={url!r} is not a redis:// URL")
    return url
