from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = "GPU catalog"

    def ready(self):
        from django.core.signals import request_finished, request_started

        from .cache import version_pin_begin, version_pin_end
        from .signals import receivers_connect

        receivers_connect()  # a change of the catalog invalidates the cached snapshot (catalog/cache.py)
        # One catalog version per web request (Celery tasks: portal/celery.py).
        request_started.connect(version_pin_begin, dispatch_uid="catalog-version-pin-begin")
        request_finished.connect(version_pin_end, dispatch_uid="catalog-version-pin-end")
