"""The dry run of a spec: validate, complete, validate again, advise, price and render. Nothing is stored.

Pure: the caller passes the catalog snapshot and the teams the user may deploy to; what needs
the database (the team's quota and budget) is added by deployments/services/preview.py.
"""

from .checker import Issue
from .cost import cost_estimate
from .recommend import cold_start_seconds, spec_advice, spec_complete
from .render import manifests_render
from .validation import spec_validate


def spec_preview(spec, *, catalog, teams, revision=None):
    """(completed spec, errors, warnings, extras): Issue lists, and {explanations, manifests, cost, cold_start}.

    `revision`: the number the manifests are rendered for (None for a dry run).
    """
    first = spec_validate(spec, catalog=catalog, teams=teams)
    errors, warnings = list(first.errors), list(first.warnings)
    completed, explanations, manifests, cost, cold_start = first.spec, [], [], None, None
    if not errors:
        completed, notes = spec_complete(first.spec, catalog=catalog)
        errors += [Issue(n["error"], n["field"], n["reason"]) for n in notes if "error" in n]
        explanations = [n for n in notes if "error" not in n]
    if not errors:
        # Second pass: the recommended values are checked like the user's own.
        second = spec_validate(completed, catalog=catalog, teams=teams)
        errors += second.errors
        warnings += [w for w in second.warnings if w not in warnings]
    if not errors:
        warnings += [Issue(**a) for a in spec_advice(completed, catalog)]
        cost = cost_estimate(completed, catalog=catalog)
        low, high = cold_start_seconds(completed, catalog)
        cold_start = {"min_seconds": low, "max_seconds": high}
        manifests = manifests_render(completed, revision=revision)
    extras = {"explanations": explanations, "manifests": manifests, "cost": cost, "cold_start": cold_start}
    return completed, errors, warnings, extras


def preview_document(completed, errors, warnings, extras):
    """The preview as the API and the wizard show it, all JSON-ready."""
    return {
        "spec": completed,
        "target": completed.get("target"),
        "manifests": extras["manifests"],
        "warnings": [w.as_dict() for w in warnings],
        "errors": [e.as_dict() for e in errors],
        "cost": extras["cost"],
        "cold_start": extras["cold_start"],
        "explanations": extras["explanations"],
        "checklist": checklist_build(completed, errors, warnings),
    }


def checklist_build(spec, errors, warnings):
    """The seed document's questions with the answer for this spec (SPEC.md, 'the checklist')."""
    flagged = {i.code for i in errors} | {i.code for i in warnings}
    online = spec.get("workload") == "online"
    scaling = spec.get("scaling") or {}
    storage_tier = (spec.get("storage") or {}).get("tier")
    items = [
        ("request_queue", "Request queue in front of the service?",
         "Probably not: rely on autoscaling.", "request_queue_discouraged"),
        ("bin_packing", "Several models on one GPU, or swapping models?",
         "Never: pick the right GPU and autoscale.", "bin_packing"),
        ("region", "Data centre closest to users?",
         "Not necessarily: generation time dwarfs network latency; pick the region with the right GPUs.",
         "region_by_proximity"),
        ("storage", "Which storage?",
         f"{storage_tier or 'chosen by model size'}; Tensorizer for fast loads.", "use_tensorizer"),
        ("workload", "Online or batch?",
         "Knative or KServe for request/response." if online else "An Argo Workflow for batch work.", None),
    ]
    if online:
        items += [
            ("latency", "How much p95 latency is acceptable?",
             f"{scaling.get('latency_tolerance', 'moderate')}: target utilization "
             f"{scaling.get('target_utilization_percent', '—')} %.", None),
            ("scale_to_zero", "Scale to zero?",
             f"Yes, after {scaling.get('scale_to_zero_retention', '30m')} idle." if scaling.get("min_replicas") == 0
             else f"No: {_replicas_warm(scaling.get('min_replicas'))}.", None),
        ]
    error_codes = {i.code for i in errors}
    return [
        {"key": key, "question": question, "answer": answer,
         "status": "error" if code in error_codes else ("warning" if code in flagged else "ok")}
        for key, question, answer, code in items
    ]


def _replicas_warm(count):
    return "1 replica stays warm" if count == 1 else f"{count} replicas stay warm"
