"""Helpers shared by the cluster, lifecycle, sync and worker tests (not fixtures: plain functions)."""

import datetime
import time

from deployments.services.lifecycle import deployment_create
from deployments.services.preview import deployment_preview
from deployments.services.push import deployment_push
from tests.factories import batch_spec, online_spec

KSVC = "services.serving.knative.dev"
ISVC = "inferenceservices.serving.kserve.io"
WORKFLOWS = "workflows.argoproj.io"


def spec_completed(spec=None, **overrides):
    """A completed spec (recommendations filled in), as it would be stored."""
    preview = deployment_preview(spec=spec or online_spec(**overrides))
    assert not preview["errors"], preview["errors"]
    return preview["spec"]


def deployment_pushed(user, *, name, team="nlp", batch=False, **overrides):
    """A deployment created through the service and pushed to the cluster (status applying)."""
    spec = (batch_spec if batch else online_spec)(team=team, name=name, **overrides)
    deployment = deployment_create(user=user, spec=spec)
    assert deployment_push(deployment_id=deployment.pk, revision=1)
    deployment.refresh_from_db()
    return deployment


def requests_matching(sandbox, method, fragment=""):
    return [r for r in sandbox.requests if r.method == method and fragment in r.path]


def wait_for(predicate, *, timeout=20.0, interval=0.1, step=None, message="condition"):
    """Poll until predicate() is truthy (calling step() between polls); returns its value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        if step is not None:
            step()
        time.sleep(interval)


def iso_ago(seconds_ago):
    """UTC, as Kubernetes writes a time, `seconds_ago` before now."""
    moment = datetime.datetime.now(datetime.UTC) - datetime.timedelta(seconds=seconds_ago)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def pod_running(core, namespace, name, *, image="vllm/vllm-openai:v0.11.0", container="model",
                started_ago=30, last_state=None, extra=(), labels=None, ready=True, ready_ago=None):
    """A pod whose containers started `started_ago` seconds ago (the sandbox's log is told from that time)."""
    containers = [{"name": container, "image": image}, *({"name": c, "image": "queue-proxy"} for c in extra)]
    core.create_namespaced_pod(namespace, {"metadata": {"name": name, "labels": dict(labels or {})},
                                           "spec": {"containers": containers}})
    statuses = [{"name": c["name"], "image": c["image"], "imageID": "", "ready": ready,
                 "restartCount": 1 if last_state else 0, "state": {"running": {"startedAt": iso_ago(started_ago)}},
                 **({"lastState": last_state} if last_state else {})} for c in containers]
    conditions = [{"type": "Ready", "status": "True" if ready else "False",
                   **({"lastTransitionTime": iso_ago(ready_ago)} if ready_ago is not None else {})}]
    core.patch_namespaced_pod_status(name, namespace, {"status": {"phase": "Running", "conditions": conditions,
                                                                  "containerStatuses": statuses}})
