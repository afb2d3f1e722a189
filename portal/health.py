"""Reachability of the services the portal depends on; every check is bounded in time.

Three endpoints, for three questions (the kubelet's probes in k8s/, docker-compose's healthchecks):
/livez: is the process answering? (nothing else: a restart would not bring a database back);
/readyz: can it serve requests? (database and Redis; a cluster that is down leaves the pages up, so the
pod stays in the Service); /healthz: everything, clusters included, for people and monitoring.
"""

import redis
from django.conf import settings
from django.db import connection
from django.http import JsonResponse

from clusters.client import default_cluster_configured
from clusters.models import Cluster
from clusters.probe import clusters_probe


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


def _probe_check(probe):
    if probe.reachable:
        return {"status": "ok", "version": probe.version}
    return {"status": "down", "reason": probe.reason}


def _enabled_clusters():
    """The enabled Cluster records (name, ClusterRef); None when the database cannot say."""
    try:
        return [(c.name, c.ref()) for c in Cluster.objects.filter(enabled=True).order_by("name")]
    except Exception:  # the database check reports why
        return None


def _check_clusters():
    """(the default cluster's check, one check per enabled Cluster record, whether the default counts).

    The default cluster counts when it is configured (KUBECONFIG or in-cluster) or when no enabled
    record exists (then it serves every region); otherwise it is reported "unused". All clusters are
    probed at once, each bounded by KUBE_PROBE_TIMEOUT."""
    records = _enabled_clusters()
    default_used = default_cluster_configured() or not records
    refs = ([None] if default_used else []) + [ref for _, ref in records or []]
    probes = clusters_probe(refs)
    default = (_probe_check(probes.pop(0)) if default_used
               else {"status": "unused",
                     "reason": "not configured (no KUBECONFIG): the enabled Cluster records serve the regions"})
    listed = [{"name": name, **_probe_check(probe)} for (name, _), probe in zip(records or [], probes)]
    return default, listed, default_used


def readiness_report():
    """What a request needs: the database and Redis (the broker the portal queues work on)."""
    checks = {"database": _check_database(), "redis": _check_redis()}
    return {"status": "ok" if all(c["status"] == "ok" for c in checks.values()) else "unready", "checks": checks}


def health_report():
    default, listed, default_used = _check_clusters()
    checks = {"database": _check_database(), "redis": _check_redis(), "cluster": default, "clusters": listed}
    essential = [checks["database"], checks["redis"], *listed] + ([default] if default_used else [])
    overall = "ok" if all(c["status"] == "ok" for c in essential) else "degraded"
    return {"status": overall, "checks": checks}


def livez(request):
    return JsonResponse({"status": "ok"})


def readyz(request):
    report = readiness_report()
    return JsonResponse(report, status=200 if report["status"] == "ok" else 503)
