"""Reachability of the services the portal depends on; every check is bounded in time."""

import redis
from django.conf import settings
from django.db import connection

import clusters


def _check_database():
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return {"status": "ok"}
    except Exception as exc:  # any failure means "down", with the reason
        return {"status": "down", "reason": str(exc).strip().splitlines()[0] if str(exc) else type(exc).__name__}


def _check_redis():
    try:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
        client.ping()
        return {"status": "ok"}
    except Exception as exc:
        return {"status": "down", "reason": str(exc) or type(exc).__name__}


def _check_cluster():
    try:
        version = clusters.cluster_ping()
        return {"status": "ok", "version": version}
    except clusters.ClusterError as exc:
        return {"status": "down", "reason": exc.message}


def health_report():
    checks = {"database": _check_database(), "redis": _check_redis(), "cluster": _check_cluster()}
    overall = "ok" if all(c["status"] == "ok" for c in checks.values()) else "degraded"
    return {"status": overall, "checks": checks}
