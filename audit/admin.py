"""Admin base for audited models: every add, change and delete made in the console is an audit event."""

from django.contrib import admin

from .services import event_record


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
