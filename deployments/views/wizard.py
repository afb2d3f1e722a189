"""The deployment wizard: five question steps over a Draft, a review, then Deploy.

Every answer is checked by `deployment_preview` (the API's validator) and every
recommendation comes from it; the views only parse, call and render. A step
works as a plain form POST; with htmx each field is also checked as the user
leaves it (same view, `?field=` and the HX-Request header: the field's message).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_POST

from specs.formats import NAME_RE
from specs.recommend import TARGET_UTILIZATION
from teams.selectors import teams_deployable_for_user

from ..forms import STEP_TITLES, form_class_for, name_of
from ..selectors import deployment_get_for_user
from ..selectors_drafts import draft_get_for_user, gpu_fits_for_spec
from ..services.drafts import (
    REVIEW_STEP,
    STEPS,
    draft_advance,
    draft_deploy,
    draft_diff,
    draft_discard,
    draft_for_edit,
    draft_preview,
    draft_save,
    draft_start,
    manifests_yaml,
)
from ..services.lifecycle import DeploymentConflict, SpecInvalid

# Over quota does not block: the deployment waits for platform staff approval instead.
NON_BLOCKING = {"over_quota"}
# Warnings that are advice (SPEC.md's checklist: "advice"), shown as such rather than as a problem.
ADVICE = {"use_tensorizer", "region_by_proximity", "cpu_nodes_suffice"}
# Paths each step leaves to the recommender when showing "what we recommend and why".
RECOMMENDABLE = {
    2: ("storage.tier", "storage.pvc_size_gi"),
    # One model per GPU is the premise of every GPU recommendation, whatever the answer so far.
    3: ("compute.gpu_class", "compute.gpus_per_replica", "compute.region", "models_per_gpu"),
    4: ("scaling.target_utilization_percent", "scaling.min_replicas", "scaling.scale_to_zero_retention",
        "scaling.target_concurrency"),
}


def _step_url(draft, step):
    return reverse("wizard-step", kwargs={"pk": draft.pk, "step": step})


def _form(draft, step, user, data=None):
    cls = form_class_for(step, draft.data.get("workload"))
    kwargs = {"spec": draft.data, "validate_url": _step_url(draft, step)}
    if step == 1:
        kwargs.update(teams=teams_deployable_for_user(user), editing=draft.deployment_id is not None)
    return cls(data, **kwargs)


def _issue_step(path, workload):
    """The step that asks for a spec path (None: no step does, e.g. a field only the API sets)."""
    for step in range(1, REVIEW_STEP):
        paths = form_class_for(step, workload).spec_paths()
        if path and any(path == p or path.startswith(p + ".") for p in paths):
            return step
    return None


def _issues_for(form, issues):
    """(field name, message) for each issue that names one of the form's fields."""
    found = []
    for issue in issues:
        path = issue.get("field") or ""
        for candidate in (path, path.rsplit(".", 1)[0]):
            if name_of(candidate) in form.fields:
                found.append((name_of(candidate), issue["message"]))
                break
    return found


def _steps_nav(draft):
    workload = draft.data.get("workload")
    return [
        {"number": n, "title": form_class_for(n, workload).title if n < REVIEW_STEP else STEP_TITLES[n],
         "url": _step_url(draft, n), "reachable": n <= draft.step}
        for n in range(1, STEPS + 1)
    ]


def _toned(issues):
    """Each warning with its `tone`: "advice" or "warning" (the class the page gives it)."""
    return [{**w, "tone": "advice" if w.get("code") in ADVICE else "warning"} for w in issues]


def _advice(draft, step, user, preview, *, highlighted=False):
    """What the side panel shows: recommendations (with the user's own choices left out) and warnings.

    `highlighted`: an answer on the page is marked wrong, so "fix the highlighted answers" makes sense.
    """
    context = {"preview": preview, "highlighted": highlighted}
    if step in RECOMMENDABLE:
        rec = draft_preview(draft=draft, user=user, step=step, without=RECOMMENDABLE[step])
        context["recommended"] = rec
        context["explanations"] = [e for e in rec["explanations"] if e["field"] in RECOMMENDABLE[step]
                                   or e["field"].split(".")[0] == RECOMMENDABLE[step][0].split(".")[0]]
    if step == 3:
        need, fits = gpu_fits_for_spec(draft.data)
        best = (context["recommended"]["spec"].get("compute") or {}).get("gpu_class")
        context.update(need_gb=need, fits=fits, best=next((f for f in fits if f["name"] == best), None))
    form_paths = form_class_for(step, draft.data.get("workload")).spec_paths()
    context["step_warnings"] = _toned(
        w for w in preview["warnings"]
        if any((w.get("field") or "") == p or (w.get("field") or "").startswith(p + ".") for p in form_paths)
    )
    context["tensorizer_advised"] = any(w["code"] == "use_tensorizer" for w in context["step_warnings"])
    context["utilization"] = TARGET_UTILIZATION
    return context


def _render_step(request, draft, step, form, preview=None):
    preview = preview or draft_preview(draft=draft, user=request.user, step=step)
    form.initial_recommended(preview["spec"])
    context = {
        "nav": "wizard", "draft": draft, "step": step, "form": form, "steps": _steps_nav(draft),
        "step_title": _steps_nav(draft)[step - 1]["title"], "workload": draft.data.get("workload"),
        "back_url": _step_url(draft, step - 1) if step > 1 else None,
        "next_title": _steps_nav(draft)[step]["title"],
        **_advice(draft, step, request.user, preview, highlighted=bool(form.errors)),
    }
    return render(request, "deployments/wizard.html", context)


@login_required
def wizard_start(request):
    """Start a new deployment, or resume the one left unfinished (in this or another browser)."""
    if not teams_deployable_for_user(request.user).exists():
        return render(request, "deployments/wizard.html", {"nav": "wizard", "no_teams": True})
    draft = draft_start(user=request.user)
    return redirect(_step_url(draft, draft.step))


@login_required
def wizard_step(request, pk, step):
    draft = draft_get_for_user(request.user, pk)
    if not 1 <= step <= STEPS:
        raise Http404("No such step")
    if step > draft.step:
        return redirect(_step_url(draft, draft.step))
    if step == REVIEW_STEP:
        return _review(request, draft)
    form = _form(draft, step, request.user, request.POST if request.method == "POST" else None)
    if request.method != "POST":
        return _render_step(request, draft, step, form)
    form.is_valid()  # parses what it can; the spec validator judges the rest
    draft_save(draft=draft, values=form.spec_values())
    preview = draft_preview(draft=draft, user=request.user, step=step)
    for name, message in _issues_for(form, [e for e in preview["errors"] if e["code"] not in NON_BLOCKING]):
        if message not in form.errors.get(name, []):
            form.add_error(name, message)
    field = request.GET.get("field")
    if request.htmx and field in form.fields:
        # The field's message, and the advice panel refreshed out of band for the new answer.
        context = {"field": form[field], "step": step, "workload": draft.data.get("workload"),
                   **_advice(draft, step, request.user, preview, highlighted=bool(form.errors.get(field)))}
        return render(request, "deployments/wizard.html#field-response", context)
    if form.errors:
        return _render_step(request, draft, step, form, preview)
    draft_advance(draft=draft, step=step + 1)
    return redirect(_step_url(draft, step + 1))


def _deployment_url(deployment):
    try:
        return reverse("deployment-detail", kwargs={"pk": deployment.pk})
    except NoReverseMatch:  # the detail page lands with the dashboard issue
        return reverse("dashboard")


def _canary_percent(request):
    """The canary share chosen on the review step, or None for all traffic at once (the default)."""
    if request.POST.get("rollout") != "canary":
        return None
    try:
        return int(request.POST.get("canary_percent", ""))
    except ValueError:
        raise SpecInvalid([{"code": "invalid_value", "field": "canary_percent",
                            "message": "Type the canary's share of traffic, a whole number from 1 to 99."}]) from None


def _review(request, draft):
    errors = None
    if request.method == "POST":
        try:
            deployment = draft_deploy(user=request.user, draft=draft, canary_percent=_canary_percent(request))
        except SpecInvalid as exc:
            errors = exc.errors
        except DeploymentConflict as exc:  # a canary the deployment cannot take now (e.g. nothing ready yet)
            errors = [{"code": "rollout_refused", "field": getattr(exc, "field", None) or "rollout",
                       "message": str(exc)}]
        else:
            verb = "updated" if draft.deployment_id else "created"
            # No status in the message: it would stay on the page while the live badge moves on.
            messages.success(request, f"{deployment} {verb}. Its status below follows the cluster.")
            return redirect(_deployment_url(deployment))
    preview = draft_preview(draft=draft, user=request.user)
    workload = draft.data.get("workload")
    errors = errors if errors is not None else preview["errors"]
    for issue in errors:
        step = _issue_step(issue.get("field"), workload)
        issue["step_url"] = _step_url(draft, step) if step else None
    context = {
        "nav": "wizard", "draft": draft, "step": REVIEW_STEP, "steps": _steps_nav(draft),
        "preview": preview, "spec": preview["spec"], "errors": errors, "warnings": _toned(preview["warnings"]),
        # A refused canary is about the way out, not the spec: "to all traffic" still works.
        "blocking": [e for e in errors if e["code"] not in NON_BLOCKING and e["code"] != "rollout_refused"],
        "yaml": manifests_yaml(preview["manifests"]) if preview["manifests"] else "",
        "diff": draft_diff(draft=draft, preview=preview),
        "back_url": _step_url(draft, REVIEW_STEP - 1),
        # A change of a running online service may go out as a canary (deployments/services/rollouts.py).
        "can_canary": bool(draft.deployment_id) and workload == "online" and draft.deployment.applied_revision,
    }
    return render(request, "deployments/wizard_review.html", context, status=400 if errors and
                  request.method == "POST" else 200)


@login_required
def wizard_manifests(request, pk):
    """The rendered YAML as a download."""
    draft = draft_get_for_user(request.user, pk)
    preview = draft_preview(draft=draft, user=request.user)
    name = draft.data.get("name")
    # The name is whatever was typed; only a valid one (no line breaks, quotes ...) names the file.
    filename = f"{name}.yaml" if isinstance(name, str) and NAME_RE.fullmatch(name) else f"draft-{draft.pk}.yaml"
    response = HttpResponse(manifests_yaml(preview["manifests"]), content_type="application/yaml")
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    return response


@login_required
@require_POST
def wizard_discard(request, pk):
    draft = draft_get_for_user(request.user, pk)
    deployment = draft.deployment
    draft_discard(draft=draft)
    messages.info(request, "Draft discarded.")
    return redirect(_deployment_url(deployment) if deployment else reverse("wizard-start"))


@login_required
def deployment_edit(request, pk):
    """Change a deployment through the same wizard, prefilled from its current spec."""
    deployment = deployment_get_for_user(request.user, pk)
    draft = draft_for_edit(user=request.user, deployment=deployment)
    return redirect(_step_url(draft, 1))
