"""Is a cluster there: one cheap `/version` call per cluster, bounded in time, all clusters at once.

For the fleet page and /healthz: a cluster that hangs or refuses costs at most `timeout` seconds,
whatever the number of clusters (they are asked in parallel), and never raises.
"""

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from django.conf import settings

from .client import ClusterError
from .objects import cluster_ping


@dataclass(frozen=True)
class Probe:
    reachable: bool
    version: str = ""
    latency_ms: float | None = None  # the /version call's round trip, when it answered
    reason: str = ""  # why not, when it did not


def _timeout(timeout):
    return timeout if timeout is not None else settings.KUBE_PROBE_TIMEOUT


def cluster_probe(cluster=None, *, timeout=None):
    """Probe one cluster (a ClusterRef; None: the default cluster)."""
    started = time.monotonic()
    try:
        version = cluster_ping(cluster=cluster, timeout=_timeout(timeout))
    except ClusterError as exc:
        return Probe(reachable=False, reason=exc.message)
    except Exception as exc:  # a probe reports; it never breaks the page that asked
        return Probe(reachable=False, reason=f"{type(exc).__name__}: {exc}")
    return Probe(reachable=True, version=version, latency_ms=round((time.monotonic() - started) * 1000, 1))


def clusters_probe(refs, *, timeout=None):
    """Probe every cluster of `refs` (ClusterRefs, None for the default) in parallel; the Probes in order."""
    refs = list(refs)
    if not refs:
        return []
    timeout = _timeout(timeout)
    with ThreadPoolExecutor(max_workers=min(len(refs), 16), thread_name_prefix="cluster-probe") as pool:
        return list(pool.map(lambda ref: cluster_probe(ref, timeout=timeout), refs))
