"""Wizard drafts: start, save, preview and finish a spec built step by step.

A draft is a partial spec (SPEC.md shape) in PostgreSQL, so a reload or another
browser resumes it. Validation, recommendation, rendering and cost all come from
`deployment_preview`, the same dry run the API uses; nothing here judges a spec.
"""

import copy
import difflib

import yaml
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Greatest

from specs.render import manifests_render
from teams.models import Team
from teams.selectors import user_can_deploy

from ..models import Draft
from .lifecycle import deployment_create, deployment_update
from .preview import deployment_preview
from .rollouts import rollout_start

STEPS = 6
REVIEW_STEP = 6
BATCH_STEP = 4
# Batch inputs and outputs are asked on step 4; before that, stand-ins let the
# preview recommend a GPU and storage. They are never stored.
BATCH_PLACEHOLDERS = {"inputs_uri": "s3://gantry-placeholder/inputs/", "outputs_uri": "s3://gantry-placeholder/outputs/"}


def spec_get(spec, path):
    node = spec
    for key in path.split("."):
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def spec_set(spec, path, value):
    """Set a dotted path; None or "" removes it (and an emptied section), so the recommender fills it in."""
    *parents, leaf = path.split(".")
    chain, node = [], spec
    for key in parents:
        if not isinstance(node.get(key), dict):
            node[key] = {}
        chain.append((node, key))
        node = node[key]
    if value is None or value == "":
        node.pop(leaf, None)
        for parent, key in reversed(chain):
            if not parent[key]:
                parent.pop(key)
    else:
        node[leaf] = value


def _workload_tidy(data):
    """Drop the sections that belong to the other workload, as the API would ignore them anyway."""
    if data.get("workload") == "batch":
        for key in ("scaling", "batching", "target"):
            data.pop(key, None)
    elif data.get("workload") == "online":
        data.pop("batch", None)
        if data.get("target") == "argo":
            data.pop("target")


def draft_start(*, user):
    """The user's latest new-deployment draft, or a fresh one."""
    draft = Draft.objects.filter(user=user, deployment__isnull=True).order_by("-updated_at").first()
    return draft or Draft.objects.create(user=user, data={"models_per_gpu": 1})


def draft_for_edit(*, user, deployment):
    """A draft prefilled from the deployment's current spec (resumed if the user already has one)."""
    if not user_can_deploy(user, deployment.team):
        raise PermissionDenied("Your role in this team cannot change deployments.")
    draft = Draft.objects.filter(user=user, deployment=deployment).order_by("-updated_at").first()
    if draft is None:
        spec = copy.deepcopy(deployment.current_revision.spec if deployment.current_revision else {})
        draft = Draft.objects.create(user=user, deployment=deployment, team=deployment.team, data=spec,
                                     step=REVIEW_STEP)
    return draft


def draft_save(*, draft, values):
    """Merge {dotted path: value} into the draft (a partial spec: anything may still be invalid)."""
    data = copy.deepcopy(draft.data)
    for path, value in values.items():
        spec_set(data, path, value)
    _workload_tidy(data)
    draft.data = data
    if "team" in values:
        draft.team = Team.objects.filter(slug=data.get("team") or "").first()
    # Only these columns: a field check still in flight must not move `step` back.
    draft.save(update_fields=["data", "team", "updated_at"])
    return draft


def draft_advance(*, draft, step):
    """Record that the user may now open `step` (the furthest step only ever moves forward)."""
    step = min(step, STEPS)
    Draft.objects.filter(pk=draft.pk).update(step=Greatest(F("step"), step))
    draft.step = max(draft.step, step)
    return draft


def draft_discard(*, draft):
    draft.delete()


def draft_preview(*, draft, user, step=REVIEW_STEP, without=()):
    """deployment_preview of the draft as it stands at `step`; `without` paths are left to the recommender."""
    spec = copy.deepcopy(draft.data)
    if step < BATCH_STEP and spec.get("workload") == "batch":
        batch = spec.setdefault("batch", {})
        for key, value in BATCH_PLACEHOLDERS.items():
            batch.setdefault(key, value)
    for path in without:
        spec_set(spec, path, None)
    return deployment_preview(spec=spec, user=user, exclude_deployment=draft.deployment)


def manifests_yaml(manifests, *, sort_keys=False):
    return yaml.safe_dump_all(manifests, sort_keys=sort_keys, default_flow_style=False)


def draft_diff(*, draft, preview):
    """Unified diff of the YAML running now against what this edit would push ("" for a new deployment)."""
    deployment = draft.deployment
    if deployment is None or preview.get("errors") and not preview.get("manifests"):
        return ""
    running = (deployment.revisions.filter(number=deployment.applied_revision).first()
               if deployment.applied_revision else None) or deployment.current_revision
    if running is None:
        return ""
    old = running.manifests or manifests_render(running.spec, revision=running.number)
    # Rendered with the next revision number, so the diff shows exactly what the push changes.
    number = (deployment.revisions.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    new = manifests_render(preview["spec"], revision=number)
    # Keys sorted on both sides: the stored copy went through jsonb, which does not keep key order.
    lines = difflib.unified_diff(
        manifests_yaml(old, sort_keys=True).splitlines(keepends=True),
        manifests_yaml(new, sort_keys=True).splitlines(keepends=True),
        fromfile=f"revision {running.number} (running)", tofile=f"revision {number} (this edit)",
    )
    return "".join(lines)


def draft_deploy(*, user, draft, canary_percent=None):
    """Create (or, for an edit, update) the deployment from the draft; the draft is then done.

    `canary_percent`: an edit goes out as a canary with that share of the traffic. Raises SpecInvalid,
    DeploymentConflict or PermissionDenied from the lifecycle and rollout services unchanged.
    """
    with transaction.atomic():
        if draft.deployment_id and canary_percent is not None:
            deployment = rollout_start(user=user, deployment=draft.deployment, spec=draft.data,
                                       canary_percent=canary_percent)
        elif draft.deployment_id:
            deployment = deployment_update(user=user, deployment=draft.deployment, spec=draft.data)
        else:
            deployment = deployment_create(user=user, spec=draft.data, idempotency_key=f"wizard-draft-{draft.pk}")
        draft.delete()
    return deployment
