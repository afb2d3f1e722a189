"""Catalog in the platform console. Prices go through gpu_price_set (history + audit), never a bare save."""

from django.contrib import admin, messages
from django.utils.timesince import timesince

from audit.admin import AuditedModelAdmin
from formats.money import money_rate

from .models import CpuRate, GpuClass, GpuPrice, ModelFamily, Region, RegionOffering, StorageTier
from .services import gpu_price_set


def _rate(field, description):
    """A list column showing a price field the way every page writes one ($2.21, $0.0125)."""

    @admin.display(description=description, ordering=field)
    def column(self, obj):
        return money_rate(getattr(obj, field))

    return column


class GpuPriceInline(admin.TabularInline):
    """Price history, read-only: it only grows, through the price field of the class."""

    model = GpuPrice
    fields = ("price", "valid_from", "note")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = "Price history (newest first; past usage keeps the price in force then)"

    price = _rate("price_per_gpu_hour", "Price per GPU-hour")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class OfferingInline(admin.TabularInline):
    """Staff set or clear the override; what the cluster reported, and when, is shown beside it, read-only."""

    model = RegionOffering
    extra = 0
    autocomplete_fields = ()
    fields = ("gpu_class", "override_gpus", "reported", "free_now")
    readonly_fields = ("reported", "free_now")

    @admin.display(description="Free GPUs (reported by the cluster)")
    def reported(self, obj):
        if obj.reported_free is None:
            return "not reported yet"
        if obj.reported_at is None:
            return f"{obj.reported_free} (the catalog's estimate: no cluster has reported yet)"
        return f"{obj.reported_free}, {timesince(obj.reported_at)} ago"

    @admin.display(description="Free GPUs now")
    def free_now(self, obj):
        if obj.pk is None:
            return "—"
        source = {"override": "override", "reported": "reported", "default": "default: nothing reported"}
        return f"{obj.available_gpus} ({source[obj.available_source]})"


@admin.register(GpuClass)
class GpuClassAdmin(AuditedModelAdmin):
    list_display = ("name", "display_name", "price", "vram_gb", "nvlink", "infiniband", "available",
                    "region_list")
    list_filter = ("available", "nvlink", "infiniband")
    search_fields = ("name", "display_name")
    inlines = [GpuPriceInline]
    price = _rate("price_per_gpu_hour", "Price per GPU-hour")

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("offerings__region")

    @admin.display(description="Regions")
    def region_list(self, obj):
        return ", ".join(o.region.code for o in obj.offerings.all()) or "—"

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        form.base_fields["price_per_gpu_hour"].help_text = (
            "Current price. Changing it writes a price-history row valid from now: usage from now on is "
            "charged at the new price, past usage keeps the old one."
        )
        return form

    def save_model(self, request, obj, form, change):
        if change and "price_per_gpu_hour" in form.changed_data:
            new_price = obj.price_per_gpu_hour
            # The price itself goes through the service (history row + audit); the rest saves as usual.
            obj.price_per_gpu_hour = form.initial["price_per_gpu_hour"]
            form.changed_data.remove("price_per_gpu_hour")
            super().save_model(request, obj, form, change)
            gpu_price_set(user=request.user, gpu_class=obj, price=new_price)
            obj.refresh_from_db()
            self.message_user(request, f"New price for {obj.name} ({money_rate(new_price)}/GPU-hour) is in force "
                              "from now.", messages.SUCCESS)
            return
        super().save_model(request, obj, form, change)


@admin.register(Region)
class RegionAdmin(AuditedModelAdmin):
    list_display = ("code", "name", "available", "object_endpoint", "accelerated_endpoint", "offered_classes")
    list_filter = ("available",)
    search_fields = ("code", "name")
    inlines = [OfferingInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("offerings__gpu_class")

    @admin.display(description="GPU classes (free GPUs)")
    def offered_classes(self, obj):
        marks = {"override": ", override"}
        return ", ".join(f"{o.gpu_class.name} ({o.available_gpus}{marks.get(o.available_source, '')})"
                         for o in obj.offerings.all()) or "—"


@admin.register(StorageTier)
class StorageTierAdmin(AuditedModelAdmin):
    list_display = ("slug", "name", "best_for", "read_gbps", "price", "position")
    ordering = ("position",)
    price = _rate("price_per_gb_month", "Price per GB-month")


@admin.register(ModelFamily)
class ModelFamilyAdmin(AuditedModelAdmin):
    """Architectures staff can add, so specs can name a family instead of copying config.json."""

    list_display = ("name", "layers", "kv_heads", "head_dim", "source")
    search_fields = ("name",)


@admin.register(CpuRate)
class CpuRateAdmin(AuditedModelAdmin):
    """CPU node rates: add a row valid from the day a new rate applies; the newest row in force prices specs."""

    list_display = ("valid_from", "vcpu_price", "gb_price", "note")
    vcpu_price = _rate("price_per_vcpu_hour", "Price per vCPU-hour")
    gb_price = _rate("price_per_gb_hour", "Price per GB-hour")
