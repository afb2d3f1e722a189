"""Clusters in the platform console: staff declare where each region's cluster is and how to reach it."""

from django import forms
from django.contrib import admin

from audit.admin import AuditedModelAdmin

from .models import Cluster


class ClusterForm(forms.ModelForm):
    class Meta:
        model = Cluster
        fields = "__all__"

    def clean(self):
        data = super().clean()
        if not data.get("enabled") or not data.get("regions"):
            return data
        # A region has one cluster: a deployment's region must name exactly one place to go.
        taken = (Cluster.regions.through.objects.filter(cluster__enabled=True, region__in=data["regions"])
                 .exclude(cluster_id=self.instance.pk).select_related("cluster", "region"))
        clashes = sorted(f"{row.region.code} ({row.cluster.name})" for row in taken)
        if clashes:
            self.add_error("regions", f"Already served by another enabled cluster: {', '.join(clashes)}.")
        return data


@admin.register(Cluster)
class ClusterAdmin(AuditedModelAdmin):
    form = ClusterForm
    audit_kind = "admin"
    list_display = ("name", "region_list", "connection", "kubeconfig_path", "context", "enabled", "draining")
    list_filter = ("enabled", "draining", "connection")
    search_fields = ("name", "regions__code")
    filter_horizontal = ("regions",)
    fieldsets = (
        (None, {"fields": ("name", "regions", "enabled", "draining")}),
        ("How to reach it (a reference to mounted credentials, never the credentials)",
         {"fields": ("connection", "kubeconfig_path", "context")}),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("regions")

    @admin.display(description="Regions")
    def region_list(self, obj):
        return ", ".join(region.code for region in obj.regions.all()) or "—"
