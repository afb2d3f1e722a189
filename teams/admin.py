"""Teams in the platform console: members and roles, budget and GPU quota, every change audited."""

from django.contrib import admin
from django.db.models import Count

from audit.admin import AuditedModelAdmin

from .models import Membership, SsoGroupMapping, Team
from .services_admin import membership_remove, membership_set, team_limits_set

LIMIT_FIELDS = ("monthly_budget_usd", "gpu_quota")


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    fields = ("user", "role", "granted_by_sso")
    readonly_fields = ("granted_by_sso",)
    raw_id_fields = ("user",)


@admin.register(Team)
class TeamAdmin(AuditedModelAdmin):
    audit_kind = "team"
    list_display = ("slug", "name", "monthly_budget_usd", "gpu_quota", "member_count", "created_at")
    search_fields = ("slug", "name")
    inlines = [MembershipInline]

    def audit_team(self, obj):
        return obj if obj.pk else None

    def get_readonly_fields(self, request, obj=None):
        # The slug names the team's Kubernetes namespace: renaming it would orphan the objects.
        return ("slug", "created_at") if obj else ("created_at",)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_members=Count("memberships"))

    @admin.display(description="Members", ordering="_members")
    def member_count(self, obj):
        return obj._members

    def save_model(self, request, obj, form, change):
        changed_limits = [f for f in LIMIT_FIELDS if f in form.changed_data]
        if not change or not changed_limits:
            return super().save_model(request, obj, form, change)
        wanted = {f: getattr(obj, f) for f in changed_limits}
        for f in changed_limits:
            setattr(obj, f, form.initial[f])
            form.changed_data.remove(f)
        super().save_model(request, obj, form, change)
        team_limits_set(user=request.user, team=obj, **wanted)

    def save_formset(self, request, form, formset, change):
        if formset.model is not Membership:
            return super().save_formset(request, form, formset, change)
        formset.save(commit=False)
        for membership in formset.deleted_objects:
            membership_remove(user=request.user, membership=membership)
        for membership in formset.new_objects:
            membership_set(user=request.user, team=form.instance, member=membership.user, role=membership.role)
        for membership, fields in formset.changed_objects:
            if "user" in fields:
                # Another person on an existing row: the old membership goes, the new one is added.
                membership_remove(user=request.user, membership=Membership.objects.get(pk=membership.pk))
            membership_set(user=request.user, team=form.instance, member=membership.user, role=membership.role)


@admin.register(SsoGroupMapping)
class SsoGroupMappingAdmin(AuditedModelAdmin):
    """Which identity-provider group gives which team role; applied at each single sign-on login."""

    audit_kind = "team"
    list_display = ("group", "team", "role")
    list_filter = ("role", "team")
    search_fields = ("group", "team__slug")

    def audit_team(self, obj):
        return obj.team
