"""`manage.py watch_clusters`: keep deployments in step with the clusters by watching them (STATUS_SYNC=watch).

One process for all clusters, or one per cluster with --cluster (repeatable; "default" is
KUBECONFIG's cluster). Runs until SIGTERM or SIGINT; a second one for the same clusters only
duplicates work, so run one replica (k8s/: strategy Recreate).
"""

import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand

from deployments.services.watching import Watcher, deployments_by_cluster


class Command(BaseCommand):
    help = "Watch every configured cluster and write what changes onto the deployments."

    def add_arguments(self, parser):
        parser.add_argument("--cluster", action="append", default=[], metavar="NAME",
                            help="watch only this cluster (repeatable; 'default' is KUBECONFIG's cluster)")
        parser.add_argument("--resync-seconds", type=float, default=None,
                            help=f"list everything again this often (default WATCH_RESYNC_SECONDS, "
                                 f"{settings.WATCH_RESYNC_SECONDS:g})")

    def handle(self, *args, cluster, resync_seconds, **options):
        if settings.STATUS_SYNC != "watch":
            self.stderr.write("STATUS_SYNC is 'list': celery beat keeps the status; the watcher is not needed. "
                              "Set STATUS_SYNC=watch to use it.")
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        watcher = Watcher(names=cluster, resync_seconds=resync_seconds)
        counts = ", ".join(f"{name}: {n}" for name, n in sorted(deployments_by_cluster().items())) or "none yet"
        self.stdout.write(f"watching clusters (live deployments {counts}); Ctrl-C stops", ending="\n")
        self.stdout.flush()
        watcher.run(stop)
        self.stdout.write("watcher stopped")
