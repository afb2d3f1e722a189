"""portal: the project itself: settings from the environment, URLs, the API error handler, health.

No business logic: every page and endpoint lives in an app; portal wires them together.
"""

from .celery import app as celery_app

__all__ = ["celery_app"]
