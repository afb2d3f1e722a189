import os

from celery import Celery

from . import logs  # noqa: F401  connects the task id to every log record of a task

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("gantry")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
