"""Deployments, approvals and the audit log in the platform console.

Actions are thin: each calls the same service as the API (lifecycle, approvals) and the
service writes the event; staff actions also leave an `admin` event naming the console.
"""

import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from audit.models import Event
from audit.services import admin_action_record, spec_diff
from specs.vocabulary import Status

from .models import Deployment, Revision
from .services import approvals, lifecycle

# Actions show on the list (many at once) and on each deployment's page.
BOTH = [admin.ActionLocation.CHANGE_LIST, admin.ActionLocation.CHANGE_FORM]

admin.site.site_header = "Gantry platform console"
admin.site.site_title = "Gantry console"
admin.site.index_title = "Platform console"
admin.site.site_url = "/fleet/"


def _json_block(value):
    return format_html("<pre>{}</pre>", json.dumps(value, indent=2, sort_keys=True, default=str))


def _diff_table(diff):
    if not diff:
        return "—"
    rows = format_html_join(
        "", "<tr><td><code>{}</code></td><td class='diff-del'>{}</td><td class='diff-add'>{}</td></tr>",
        ((d.get("field"), json.dumps(d.get("old"), default=str), json.dumps(d.get("new"), default=str))
         for d in diff),
    )
    return format_html("<table class='spec-diff'><thead><tr><th>Field</th><th>Before</th><th>After</th></tr>"
                       "</thead><tbody>{}</tbody></table>", rows)


class FailingFilter(admin.SimpleListFilter):
    title = "health"
    parameter_name = "health"

    def lookups(self, request, model_admin):
        return [("failing", "Failing"), ("drift", "Drift detected"), ("pending", "Waiting for approval")]

    def queryset(self, request, queryset):
        if self.value() == "failing":
            return queryset.filter(status=Status.FAILED)
        if self.value() == "drift":
            return queryset.filter(drift_detected_at__isnull=False).exclude(status=Status.DELETED)
        if self.value() == "pending":
            return queryset.filter(status=Status.PENDING_APPROVAL)
        return queryset


class _ValuesFilter(admin.SimpleListFilter):
    """Choices from the values actually in use (GPU class, region are denormalised strings)."""

    def lookups(self, request, model_admin):
        values = (model_admin.get_queryset(request).exclude(**{self.parameter_name: ""})
                  .order_by(self.parameter_name).values_list(self.parameter_name, flat=True).distinct())
        return [(v, v) for v in values]

    def queryset(self, request, queryset):
        return queryset.filter(**{self.parameter_name: self.value()}) if self.value() else queryset


class GpuClassFilter(_ValuesFilter):
    title = "GPU class"
    parameter_name = "gpu_class"


class RegionFilter(_ValuesFilter):
    title = "region"
    parameter_name = "region"


class ReadOnlyMixin:
    """History is written by the services; nobody edits it by hand."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class RevisionInline(ReadOnlyMixin, admin.TabularInline):
    model = Revision
    fields = ("number", "created_by", "created_at", "note", "changes")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    @admin.display(description="Changes from the revision before")
    def changes(self, rev):
        before = rev.deployment.revisions.filter(number__lt=rev.number).order_by("-number").first()
        return _diff_table(spec_diff(before.spec, rev.spec)) if before else "first revision"


class SpecForm(forms.Form):
    spec = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 24, "cols": 100, "spellcheck": "false"}),
        help_text="A deployment spec as JSON (the REST API's body; see the README). Left-out fields are recommended.",
    )

    def clean_spec(self):
        try:
            value = json.loads(self.cleaned_data["spec"])
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(f"Not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}.")
        if not isinstance(value, dict):
            raise forms.ValidationError("The spec must be a JSON object: {\"name\": ..., \"team\": ..., ...}.")
        return value


class RejectForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}), max_length=2000,
        help_text="The requester sees this on the deployment page: say what to change to get it approved.",
    )


@admin.register(Deployment)
class DeploymentAdmin(admin.ModelAdmin):
    list_display = ("name", "team", "status_badge", "gpu_class", "region", "gpus_in_use", "created_by",
                    "updated_at")
    list_filter = (FailingFilter, "status", "team", GpuClassFilter, RegionFilter)
    search_fields = ("name", "team__slug", "team__name")
    list_select_related = ("team", "created_by")
    date_hierarchy = "created_at"
    actions = ["resync_now", "repush", "tear_down", "approve", "reject"]
    inlines = [RevisionInline]
    change_list_template = "admin/deployments/deployment/change_list.html"
    fieldsets = (
        (None, {"fields": ("team", "name", "workload", "target", "status_badge", "status_message", "url",
                           "audit_link")}),
        ("Approval", {"fields": ("approval_reason", "decision_reason", "decided_by", "decided_at")}),
        ("Placement", {"fields": ("gpu_class", "region", "gpus_per_replica", "ready_pods", "total_pods",
                                  "gpus_in_use")}),
        ("Cluster", {"fields": ("current_revision", "applied_revision", "last_pushed_at", "push_attempts",
                                "last_synced_at", "drift_detected_at", "scaled_to_zero_at", "idle_since")}),
        ("Spec (current revision)", {"fields": ("spec",)}),
        ("Who and when", {"fields": ("created_by", "created_at", "updated_at")}),
    )

    def get_readonly_fields(self, request, obj=None):
        # Everything is read-only here: changes go through the services (actions below, or the API).
        names = [f.name for f in self.model._meta.fields]
        return names + ["status_badge", "spec", "audit_link"]

    def has_add_permission(self, request):
        return False  # new deployments come from a spec (create_from_spec below), never a bare row

    def get_urls(self):
        view = self.admin_site.admin_view(self.create_from_spec)
        return [path("create/", view, name="deployments_deployment_create_from_spec"), *super().get_urls()]

    def create_from_spec(self, request):
        """Staff create a deployment for any team through the same service as the wizard and the API."""
        form = SpecForm(request.POST or None)
        if form.is_valid():
            try:
                # user=None: staff act for the platform, not as a team member; the event below says who.
                deployment = lifecycle.deployment_create(user=None, spec=form.cleaned_data["spec"])
            except lifecycle.SpecInvalid as exc:
                for error in exc.errors:
                    form.add_error("spec", f"{error['field'] or 'spec'}: {error['message']} ({error['code']})")
            else:
                admin_action_record(user=request.user, deployment=deployment, action="create",
                                    message=f"Created by {request.user.get_username()} from the admin console")
                messages.success(request, f"{deployment} created: {deployment.get_status_display().lower()}.")
                return HttpResponseRedirect(reverse("admin:deployments_deployment_change", args=[deployment.pk]))
        context = {**self.admin_site.each_context(request), "title": "Create a deployment from a spec",
                   "opts": self.opts, "form": form}
        return TemplateResponse(request, "admin/deployments/deployment/create.html", context)

    def has_delete_permission(self, request, obj=None):
        return False  # "Tear down" removes the objects from the cluster; rows stay for history

    def get_actions(self, request, action_location=admin.ActionLocation.CHANGE_LIST):
        actions = super().get_actions(request, action_location=action_location)
        actions.pop("delete_selected", None)
        return actions

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # Nothing here is edited by hand: the actions above the page are the way to change a deployment.
        extra_context = {**(extra_context or {}), "show_save": False, "show_save_and_continue": False,
                         "show_save_and_add_another": False}
        return super().changeform_view(request, object_id, form_url, extra_context)

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}),
                         "pending_count": Deployment.objects.filter(status=Status.PENDING_APPROVAL).count()}
        return super().changelist_view(request, extra_context=extra_context)

    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj):
        return format_html("<span class='badge status-{}'>{}</span>", obj.status, obj.get_status_display())

    @admin.display(description="Spec")
    def spec(self, obj):
        return _json_block(obj.current_revision.spec) if obj.current_revision else "—"

    @admin.display(description="Audit log")
    def audit_link(self, obj):
        url = reverse("admin:audit_event_changelist") + f"?deployment__id__exact={obj.pk}"
        return format_html("<a href='{}'>Every event of this deployment</a>", url)

    def _run(self, request, queryset, *, label, call, audit=True):
        """Apply one service call per deployment; report successes and refusals to the user."""
        done, failed = [], []
        for deployment in queryset.select_related("team", "current_revision"):
            try:
                call(deployment)
            except (lifecycle.DeploymentConflict, PermissionDenied, ValueError) as exc:
                failed.append(f"{deployment}: {exc}")
                continue
            if audit:
                admin_action_record(user=request.user, deployment=deployment, action=label)
            done.append(str(deployment))
        if done:
            self.message_user(request, f"{label}: {', '.join(done)}", messages.SUCCESS)
        for line in failed:
            self.message_user(request, f"{label} refused for {line}", messages.ERROR)

    @admin.action(description="Resync status now", location=BOTH)
    def resync_now(self, request, queryset):
        self._run(request, queryset, label="Resync",
                  call=lambda d: lifecycle.deployment_resync(user=request.user, deployment=d))

    @admin.action(description="Re-push the current revision", location=BOTH)
    def repush(self, request, queryset):
        self._run(request, queryset, label="Re-push",
                  call=lambda d: lifecycle.deployment_repush(user=request.user, deployment=d))

    @admin.action(description="Tear down (remove from the cluster)", location=BOTH)
    def tear_down(self, request, queryset):
        self._run(request, queryset, label="Tear down",
                  call=lambda d: lifecycle.deployment_teardown(user=request.user, deployment=d))

    @admin.action(description="Approve (queue the push)…", location=BOTH)
    def approve(self, request, queryset):
        """A page that shows what is approved (revision and spec), then the approval of exactly that."""
        if "apply" in request.POST:
            def call(d):
                seen = request.POST.get(f"revision_{d.pk}", "")
                approvals.deployment_approve(user=request.user, deployment=d,
                                             revision=int(seen) if seen.isdigit() else 0)

            # The approval event names the staff member; no extra admin event needed.
            self._run(request, queryset, label="Approved", audit=False, call=call)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Approve requests",
            "opts": self.opts,
            "deployments": queryset.select_related("team", "current_revision"),
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/deployments/deployment/approve.html", context)

    @admin.action(description="Reject (with a reason)…", location=BOTH)
    def reject(self, request, queryset):
        form = RejectForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            reason = form.cleaned_data["reason"]
            self._run(request, queryset, label="Rejected", audit=False,
                      call=lambda d: approvals.deployment_reject(user=request.user, deployment=d, reason=reason))
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Reject requests",
            "opts": self.opts,
            "form": form,
            "deployments": queryset.select_related("team"),
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            "selected_ids": [str(pk) for pk in queryset.values_list("pk", flat=True)],
        }
        return TemplateResponse(request, "admin/deployments/deployment/reject.html", context)


class EventDeploymentFilter(admin.SimpleListFilter):
    """Lets the deployment page link to its own events (the filter also appears in the sidebar)."""

    title = "deployment"
    parameter_name = "deployment__id__exact"

    def lookups(self, request, model_admin):
        pk = request.GET.get(self.parameter_name)
        deployment = Deployment.objects.filter(pk=pk).select_related("team").first() if pk else None
        return [(str(deployment.pk), str(deployment))] if deployment else []

    def queryset(self, request, queryset):
        return queryset.filter(deployment_id=self.value()) if self.value() else queryset


@admin.register(Event)
class EventAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """The audit log: who did what, when, with the spec diff for changes. Nobody edits history."""

    list_display = ("created_at", "kind", "team", "deployment", "actor", "transition", "message")
    list_filter = ("kind", "team", ("actor", admin.RelatedOnlyFieldListFilter), "created_at", EventDeploymentFilter)
    search_fields = ("message", "deployment__name", "team__slug", "actor__username")
    list_select_related = ("team", "actor", "deployment__team")
    date_hierarchy = "created_at"
    fields = ("created_at", "kind", "team", "deployment", "actor", "transition", "message", "changes", "raw_data")
    readonly_fields = fields

    @admin.display(description="Status")
    def transition(self, obj):
        if obj.from_status == obj.to_status:
            return obj.to_status or "—"
        return f"{obj.from_status or '∅'} → {obj.to_status}"

    @admin.display(description="Changes")
    def changes(self, obj):
        return _diff_table(event_diff(obj))

    @admin.display(description="Data")
    def raw_data(self, obj):
        return _json_block(obj.data) if obj.data else "—"


def event_diff(event):
    """The diff an event stands for: stored in data["diff"], or computed for spec changes from revisions."""
    data = event.data or {}
    if data.get("diff"):
        return data["diff"]
    number = data.get("revision")
    if event.deployment_id and number and event.kind in (Event.Kind.CHANGED, Event.Kind.ROLLBACK):
        specs = dict(
            Revision.objects.filter(deployment_id=event.deployment_id)
            .filter(Q(number=number) | Q(number__lt=number)).order_by("-number").values_list("number", "spec")[:2]
        )
        if number in specs and len(specs) == 2:
            (before,) = [spec for n, spec in specs.items() if n != number]
            return spec_diff(before, specs[number])
    return []
