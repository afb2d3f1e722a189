from django.contrib import admin

from .models import Delivery, Webhook


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    """The secret is not an editable field: the admin never shows it."""

    list_display = ("name", "team", "user", "url_display", "created_at")
    list_filter = ("team",)
    fields = ("name", "team", "user", "url_display")
    readonly_fields = ("url_display",)  # the full URL is a credential (encrypted at rest); never shown again

    def has_add_permission(self, request):
        return False  # added on the team's page, the one place that shows the new secret


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ("created_at", "event", "channel", "team", "deployment", "state", "status_code", "attempts")
    list_filter = ("state", "event", "channel")
    readonly_fields = [f.name for f in Delivery._meta.fields]

    def has_add_permission(self, request):
        return False
