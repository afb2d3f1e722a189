from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = "GPU catalog"

    def ready(self):
        from .signals import receivers_connect

        receivers_connect()  # a change of the catalog invalidates the cached snapshot (catalog/cache.py)
