"""Catalog in the platform console. Prices go through gpu_price_set (history + audit), never a bare save."""

from django.contrib import admin, messages

from .models import GpuClass, GpuPrice, Region, RegionOffering, StorageTier
from .services import gpu_price_set


def _jsonable(value):
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def form_diff(form, fields=None):
    """[{field, old, new}] for what the admin form changed (old from the form's initial data)."""
    diff = []
    for name in form.changed_data:
        if fields is not None and name not in fields:
            continue
        diff.append({"field": name, "old": _jsonable(form.initial.get(name)),
                     "new": _jsonable(form.cleaned_data.get(name))})
    return diff


class AuditedModelAdmin(admin.ModelAdmin):
    """Every add, change and delete through this admin lands in the audit log (Event of `audit_kind`)."""

    audit_kind = "catalog"

    def audit(self, request, *, message, diff=None, team=None):
        from deployments.services.audit import event_record

        event_record(kind=self.audit_kind, actor=request.user, team=team, message=message,
                     data={"diff": diff or [], "object": self.opts.model_name})

    def audit_team(self, obj):
        return None

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        name = self.opts.verbose_name
        if not change:
            self.audit(request, message=f"Added {name} {obj}", team=self.audit_team(obj))
        elif form.changed_data:
            diff = form_diff(form)
            changes = ", ".join(f"{d['field']} {d['old']} → {d['new']}" for d in diff)
            self.audit(request, message=f"Changed {name} {obj}: {changes}", diff=diff, team=self.audit_team(obj))

    def delete_model(self, request, obj):
        self.audit(request, message=f"Deleted {self.opts.verbose_name} {obj}", team=self.audit_team(obj))
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        parent = form.instance
        for obj in formset.new_objects:
            self.audit(request, message=f"Added {obj} ({parent})", team=self.audit_team(parent))
        for obj, fields in formset.changed_objects:
            self.audit(request, message=f"Changed {obj} ({', '.join(fields)})", team=self.audit_team(parent),
                       diff=[{"field": f, "new": _jsonable(getattr(obj, f, None))} for f in fields])
        for obj in formset.deleted_objects:
            self.audit(request, message=f"Removed {obj} ({parent})", team=self.audit_team(parent))


class GpuPriceInline(admin.TabularInline):
    """Price history, read-only: it only grows, through the price field of the class."""

    model = GpuPrice
    fields = ("price_per_gpu_hour", "valid_from", "note")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = "Price history (newest first; past usage keeps the price in force then)"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class OfferingInline(admin.TabularInline):
    model = RegionOffering
    extra = 0
    autocomplete_fields = ()
    fields = ("gpu_class", "available_gpus")


@admin.register(GpuClass)
class GpuClassAdmin(AuditedModelAdmin):
    list_display = ("name", "display_name", "price_per_gpu_hour", "vram_gb", "nvlink", "infiniband", "available",
                    "region_list")
    list_filter = ("available", "nvlink", "infiniband")
    search_fields = ("name", "display_name")
    inlines = [GpuPriceInline]

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
            self.message_user(request, f"New price for {obj.name} (${new_price}/GPU-hour) is in force from now.",
                              messages.SUCCESS)
            return
        super().save_model(request, obj, form, change)


@admin.register(Region)
class RegionAdmin(AuditedModelAdmin):
    list_display = ("code", "name", "available", "offered_classes")
    list_filter = ("available",)
    search_fields = ("code", "name")
    inlines = [OfferingInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("offerings__gpu_class")

    @admin.display(description="GPU classes (free GPUs)")
    def offered_classes(self, obj):
        return ", ".join(f"{o.gpu_class.name} ({o.available_gpus})" for o in obj.offerings.all()) or "—"


@admin.register(StorageTier)
class StorageTierAdmin(AuditedModelAdmin):
    list_display = ("slug", "name", "best_for", "read_gbps", "price_per_gb_month", "position")
    ordering = ("position",)
