import os

from celery import Celery
from celery.signals import task_postrun, task_prerun

from . import logs  # noqa: F401  connects the task id to every log record of a task

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("gantry")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Celery's Django fixup closes every database connection before and after each task unless
# CELERY_DB_REUSE_MAX is set (celery 5.6 celery/fixups/django.py, DjangoWorkerFixup.close_database): a new
# PostgreSQL connection per task, ~6 ms. Keep connections, and let Django's own rule decide when to drop
# one, as it does per web request: CONN_MAX_AGE and CONN_HEALTH_CHECKS (settings), applied around each task.
app.conf.CELERY_DB_REUSE_MAX = 10**9
app.autodiscover_tasks()


@task_prerun.connect
@task_postrun.connect
def _connections_recycle(sender=None, **_):
    from django.db import close_old_connections

    if not getattr(getattr(sender, "request", None), "is_eager", False):  # as the fixup: never in-process apply()
        close_old_connections()


@task_prerun.connect
def _catalog_version_pin(**_):
    from catalog.cache import version_pin_begin

    version_pin_begin()  # one catalog version per task, as per web request (catalog/cache.py)


@task_postrun.connect
def _catalog_version_unpin(**_):
    from catalog.cache import version_pin_end

    version_pin_end()
