"""Batch runs: each run of a batch deployment is its own Workflow (<name>-run-<n>), with a record of its own.

Argo's ttlStrategy removes a finished Workflow after a day (a week when it failed); the Run row keeps what
the run did: status, shards, start, end (its cost comes from the spend samples of that window).
"""

from django.db.models import Max
from django.utils.dateparse import parse_datetime

from notifications.models import EventKind
from notifications.services import notify
from specs.render_batch import run_workflow_name
from specs.vocabulary import Status

from ..models import Deployment, Run

RUN_FIELDS = ("status", "shards_total", "shards_done", "started_at", "finished_at")


def run_record(*, deployment, revision, user):
    """A new run of `revision` that the deployment's status follows from now on (inside the caller's transaction)."""
    number = (Run.objects.filter(deployment=deployment).aggregate(n=Max("number"))["n"] or 0) + 1
    run = Run.objects.create(deployment=deployment, number=number, revision=revision, created_by=user,
                             workflow_name=run_workflow_name(deployment.name, number))
    fresh = {"current_run": number, "shards_done": 0, "shards_total": 0, "run_started_at": None,
             "run_finished_at": None}
    Deployment.objects.filter(pk=deployment.pk).update(**fresh)
    for field, value in fresh.items():
        setattr(deployment, field, value)
    return run


def runs_mirror(deployments):
    """Copy what sync saw of each deployment's current run onto its Run row (two queries for all of them)."""
    wanted = {(d.pk, d.current_run): d for d in deployments if d.current_run}
    if not wanted:
        return
    runs = list(Run.objects.filter(deployment_id__in={pk for pk, _ in wanted}, number__in={n for _, n in wanted}))
    changed = []
    for run in runs:
        d = wanted.get((run.deployment_id, run.number))
        if d is None:
            continue
        values = {"status": d.status if d.status in (Status.RUNNING, Status.SUCCEEDED, Status.FAILED) else run.status,
                  "shards_total": d.shards_total, "shards_done": d.shards_done,
                  "started_at": d.run_started_at, "finished_at": d.run_finished_at}
        if any(getattr(run, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(run, k, v)
            changed.append(run)
    Run.objects.bulk_update(changed, RUN_FIELDS)


# An Argo Workflow's phase as a run's status (Argo v3.6 WorkflowPhase: Pending, Running, Succeeded, Failed, Error).
PHASE_STATUS = {"Pending": Status.RUNNING, "Running": Status.RUNNING, "Succeeded": Status.SUCCEEDED,
                "Failed": Status.FAILED, "Error": Status.FAILED}


def _run_values(status):
    """A run's fields from what clusters.status_read says of its Workflow."""
    done, total = status.get("progress") or (0, 0)
    return {"status": PHASE_STATUS.get(status.get("phase"), Status.QUEUED), "shards_done": done,
            "shards_total": total, "started_at": parse_datetime(status.get("started_at") or ""),
            "finished_at": parse_datetime(status.get("finished_at") or "")}


def scheduled_runs_record(children):
    """Record the Workflows a CronWorkflow started: {deployment: [(workflow name, status)]}. Three queries.

    Argo names them <cron>-<unix time> (workflow/common/convert.go, Argo v3.6), so by name is by start time:
    new ones get the next numbers in that order; every one gets its phase, shards and times.
    """
    if not children:
        return
    existing = Run.objects.filter(deployment__in=list(children))
    known = {(r.deployment_id, r.workflow_name): r for r in existing}
    numbers = {}
    for run in known.values():
        numbers[run.deployment_id] = max(numbers.get(run.deployment_id, 0), run.number)
    new, changed, finished = [], [], []
    for d, items in children.items():
        for name, status in sorted(items):
            values = _run_values(status)
            run = known.get((d.pk, name))
            if run is None:
                numbers[d.pk] = numbers.get(d.pk, 0) + 1
                run = Run(deployment=d, number=numbers[d.pk], revision=d.applied_revision or 0,
                          workflow_name=name[:63], **values)
                new.append(run)
            elif any(getattr(run, k) != v for k, v in values.items()):
                was = run.status
                for k, v in values.items():
                    setattr(run, k, v)
                changed.append(run)
                if was == run.status:
                    continue
            else:
                continue
            if run.status in (Status.SUCCEEDED, Status.FAILED):
                finished.append((d, run))
    Run.objects.bulk_create(new)
    Run.objects.bulk_update(changed, RUN_FIELDS)
    for d, run in finished:  # queued after commit, like every notification
        notify(kind=EventKind.RUN_FINISHED, team=d.team, deployment=d, data={"run": run.number},
               message=f"Scheduled run {run.workflow_name} {run.get_status_display().lower()} "
                       f"({run.shards_done}/{run.shards_total} shards)")
