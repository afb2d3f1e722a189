"""Deployments by name (the API addresses them by id, people and specs by team and name), and `apply`."""

import json
from dataclasses import dataclass

from .errors import USAGE, ApiRefused, CliError

DEPLOYMENTS = "/api/v1/deployments/"
# Preview errors that a store decides differently: an existing name is updated instead, and a spec over the
# team's quota is stored to wait for platform staff (SPEC.md), so neither stops `apply`.
NOT_BLOCKING_APPLY = {"name_taken", "over_quota"}


def deployment_find(api, name, team=None):
    """The live (not deleted) deployment called `name`, in `team` if given: its list item."""
    params = {"page_size": 200, **({"team": team} if team else {})}
    found = [d for d in api.pages(DEPLOYMENTS, params) if d["name"] == name and d["status"]["phase"] != "deleted"]
    if not found:
        where = f" in team {team}" if team else " in your teams"
        raise ApiRefused([{"code": "not_found", "field": "name", "message": f"No deployment named {name!r}{where}."}])
    if len(found) > 1:
        teams = ", ".join(sorted(d["team"] for d in found))
        raise CliError(f"{name!r} is the name of a deployment in teams {teams}: say which with --team", USAGE)
    return found[0]


def deployment_detail(api, name, team=None):
    return api.json("GET", f"{DEPLOYMENTS}{deployment_find(api, name, team)['id']}/")


def merge_patch(current, wanted):
    """The JSON merge patch (RFC 7396) that turns `current` into `wanted`: changed keys, null for removed ones."""
    patch = {key: None for key in current if key not in wanted}
    for key, value in wanted.items():
        old = current.get(key)
        if isinstance(value, dict) and isinstance(old, dict):
            if (sub := merge_patch(old, value)):
                patch[key] = sub
        elif value != old or key not in current:
            patch[key] = value
    return patch


@dataclass(frozen=True)
class Plan:
    """What `apply` would do with a spec, from the server's preview (which completes the spec with the
    recommender's choices, so an unchanged file gives an empty patch)."""

    preview: dict
    blocking: list  # the preview's errors that stop `apply`
    current: dict | None = None  # the stored deployment of that team and name
    patch: dict | None = None  # the merge patch from its spec to the completed one

    @property
    def notes(self):
        return [e for e in self.preview.get("errors") or [] if e.get("code") in NOT_BLOCKING_APPLY]


def spec_plan(api, text):
    _, preview = api.yaml_post(f"{DEPLOYMENTS}preview/", text, allow=(400,))
    errors = preview.get("errors") or []
    if "spec" not in preview:  # refused before validation (the body could not be read)
        raise ApiRefused(errors)
    blocking = [e for e in errors if e.get("code") not in NOT_BLOCKING_APPLY]
    if blocking or not any(e.get("code") == "name_taken" for e in errors):
        return Plan(preview, blocking)
    spec = preview["spec"]
    current = deployment_detail(api, spec["name"], spec["team"])
    return Plan(preview, blocking, current, merge_patch(current.get("spec") or {}, spec))


def spec_apply(api, text):
    """("created" | "updated" | "unchanged", the deployment's detail, the plan) for a YAML spec."""
    plan = spec_plan(api, text)
    if plan.blocking:
        raise ApiRefused(plan.blocking)
    if plan.current is None:
        _, created = api.yaml_post(DEPLOYMENTS, text)
        return "created", created, plan
    if not plan.patch:
        return "unchanged", plan.current, plan
    return "updated", api.json("PATCH", f"{DEPLOYMENTS}{plan.current['id']}/", json=plan.patch), plan


def patch_lines(patch, current, prefix=""):
    """`field: old -> new` for each field a merge patch changes (values as JSON)."""
    for key, value in patch.items():
        old = (current or {}).get(key)
        if isinstance(value, dict) and isinstance(old, dict):
            yield from patch_lines(value, old, f"{prefix}{key}.")
        else:
            new = "(removed)" if value is None else json.dumps(value)
            yield f"{prefix}{key}: {'(none)' if key not in (current or {}) else json.dumps(old)} -> {new}"
