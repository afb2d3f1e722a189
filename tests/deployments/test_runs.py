"""Batch runs (issue 15): each run is a new Workflow with its own name, listed with its result after Argo removes it."""

import pytest

from deployments.models import Deployment
from deployments.services import lifecycle, push
from deployments.services.reconcile import reconcile
from deployments.services.sync import status_sync
from specs.vocabulary import Status
from tests.cluster_helpers import WORKFLOWS, deployment_pushed
from tests.factories import batch_spec
from tests.deployments.test_sync import simulate

pytestmark = [pytest.mark.timeout(60), pytest.mark.django_db]


def run_to_the_end(sandbox, d):
    for _ in range(20):
        simulate(sandbox, seconds=120, steps=1)
        status_sync()
        d.refresh_from_db()
        if d.status in (Status.SUCCEEDED, Status.FAILED):
            return d
    raise AssertionError(f"{d} did not finish: {d.status}")


def test_run_again_starts_a_second_workflow_and_both_runs_are_listed(sandbox, sandbox_kubeconfig, deployer):
    d = run_to_the_end(sandbox, deployment_pushed(deployer, name="nightly", batch=True))
    first_finished = d.run_finished_at
    run = lifecycle.deployment_run_again(user=deployer, deployment=d)
    assert (run.number, run.revision, run.workflow_name) == (2, 1, "nightly-run-2")
    d.refresh_from_db()
    assert d.status == Status.QUEUED and d.current_run == 2 and d.shards_done == 0 and d.run_started_at is None
    assert push.deployment_push(deployment_id=d.pk, revision=1)
    d = run_to_the_end(sandbox, d)
    assert d.status == Status.SUCCEEDED and d.run_started_at >= first_finished
    # Two Workflows in the cluster, two records, each with its own result.
    names = sorted(w["metadata"]["name"] for w in sandbox.objects(WORKFLOWS, "tenant-nlp"))
    assert names == ["nightly-run-1", "nightly-run-2"]
    runs = list(d.runs.order_by("number").values_list("number", "status", "shards_done", "finished_at"))
    assert [(n, s, shards) for n, s, shards, _ in runs] == [(1, "succeeded", 2), (2, "succeeded", 2)]
    assert runs[0][3] == first_finished
    # Tear down removes every run's Workflow; the records stay.
    lifecycle.deployment_teardown(user=deployer, deployment=d)
    push.deployment_teardown_run(deployment_id=d.pk)
    assert sandbox.objects(WORKFLOWS, "tenant-nlp") == []
    assert d.runs.count() == 2


def test_a_changed_batch_spec_is_a_new_run_of_the_new_revision(sandbox, sandbox_kubeconfig, deployer):
    d = run_to_the_end(sandbox, deployment_pushed(deployer, name="nightly", batch=True))
    lifecycle.deployment_update(user=deployer, deployment=d, spec=batch_spec(name="nightly", batch={
        "inputs_uri": "s3://data/prompts-v2/", "outputs_uri": "s3://data/completions-v2/", "parallelism": 2}))
    d.refresh_from_db()
    assert d.current_run == 2 and d.runs.get(number=2).revision == 2
    assert push.deployment_push(deployment_id=d.pk, revision=2)
    workflow = sandbox.object(WORKFLOWS, "tenant-nlp", "nightly-run-2")
    params = {p["name"]: p["value"] for p in workflow["spec"]["arguments"]["parameters"]}
    assert params["inputs-uri"] == "s3://data/prompts-v2/"
    assert workflow["metadata"]["labels"]["gantry.io/run"] == "2"
    assert workflow["spec"]["podMetadata"]["labels"]["gantry.io/run"] == "2"
    # The status follows the new run, not the finished first one.
    simulate(sandbox, seconds=5, steps=1)
    status_sync()
    d.refresh_from_db()
    assert d.status in (Status.APPLYING, Status.RUNNING)
    assert reconcile()["superseded"] == 0  # the same kind: nothing to remove


def test_run_again_is_refused_while_a_run_is_in_progress_or_for_an_online_service(deployer, team):
    from tests.factories import DeploymentFactory

    batch = DeploymentFactory(team=team, name="busy", workload="batch", target="argo", status=Status.RUNNING)
    with pytest.raises(lifecycle.DeploymentConflict, match="once this one has finished"):
        lifecycle.deployment_run_again(user=deployer, deployment=batch)
    online = DeploymentFactory(team=team, name="chat", status=Status.RUNNING)
    with pytest.raises(lifecycle.DeploymentConflict, match="Only a batch deployment has runs"):
        lifecycle.deployment_run_again(user=deployer, deployment=online)


def test_the_api_lists_runs_and_starts_one(api, deployer, viewer, team, dispatched,
                                            django_capture_on_commit_callbacks):
    d = lifecycle.deployment_create(user=deployer, spec=batch_spec())
    url = f"/api/v1/deployments/{d.pk}/runs/"
    assert api(deployer).post(url).status_code == 409  # queued: the first run has not finished
    Deployment.objects.filter(pk=d.pk).update(status=Status.SUCCEEDED)
    with django_capture_on_commit_callbacks(execute=True):
        response = api(deployer).post(url)
    assert response.status_code == 201, response.json()
    dispatched.push.assert_called_once_with(d.pk, 1)
    assert response.json()["number"] == 2 and response.json()["workflow"] == "nightly-batch-run-2"
    listed = api(viewer).get(url).json()
    assert [r["number"] for r in listed] == [2, 1] and listed[1]["status"] == "queued"
    assert api(viewer).post(url).status_code == 403  # viewers read, deployers run


def test_the_detail_page_lists_runs_with_a_run_again_button(login, deployer, team, dispatched):
    d = lifecycle.deployment_create(user=deployer, spec=batch_spec())
    Deployment.objects.filter(pk=d.pk).update(status=Status.SUCCEEDED)
    client = login(deployer)
    page = client.get(f"/deployments/{d.pk}/").content.decode()
    runs = page.split('id="runs"')[1].split("</section>")[0]
    assert "nightly-batch-run-1" in runs and "Run again" in runs
    response = client.post(f"/deployments/{d.pk}/runs/", follow=True)
    assert "Run 2 queued" in response.content.decode()
    assert 'data-run="2"' in response.content.decode().split('id="runs"')[1]


def test_a_scheduled_batch_records_each_run_argo_starts(sandbox, sandbox_kubeconfig, deployer,
                                                       django_capture_on_commit_callbacks):
    import clusters
    from deployments.services.manifests import revision_manifests

    spec = batch_spec(batch={"inputs_uri": "s3://data/prompts/", "outputs_uri": "s3://data/completions/",
                             "parallelism": 2, "schedule": "0 3 * * *"})
    d = lifecycle.deployment_create(user=deployer, spec=spec)
    assert d.scheduled and d.current_run is None and d.runs.count() == 0
    from notifications.models import Delivery, EventKind, Webhook

    Webhook.objects.create(team=d.team, name="ops", url="https://hooks.example.com/ops", secret="whsec_test")
    assert push.deployment_push(deployment_id=d.pk, revision=1)
    cron = sandbox.object("cronworkflows.argoproj.io", "tenant-nlp", "nightly-batch")
    assert cron["spec"]["schedules"] == ["0 3 * * *"]
    status_sync()
    d.refresh_from_db()
    assert d.status == Status.RUNNING and "schedule" in d.status_message
    # What Argo does at 03:00 (workflow/common/convert.go, v3.6): a Workflow <cron>-<unix time> with the cron
    # label and the CronWorkflow's workflowMetadata labels, running its workflowSpec.
    (template,) = revision_manifests(d, d.current_revision)
    child = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
             "metadata": {"name": "nightly-batch-1796266800", "namespace": "tenant-nlp",
                          "labels": {clusters.CRON_WORKFLOW_LABEL: "nightly-batch",
                                     **template["spec"]["workflowMetadata"]["labels"]}},
             "spec": template["spec"]["workflowSpec"]}
    clusters.objects_apply([child])
    for _ in range(20):
        simulate(sandbox, seconds=120, steps=1)
        with django_capture_on_commit_callbacks(execute=True):  # notifications are recorded after commit
            status_sync()
        if d.runs.filter(status=Status.SUCCEEDED).exists():
            break
    run = d.runs.get()
    assert (run.number, run.workflow_name, run.status, run.shards_done) == (1, "nightly-batch-1796266800",
                                                                            "succeeded", 2)
    d.refresh_from_db()
    assert d.status == Status.RUNNING  # still on its schedule
    status_sync()  # told once, not at every sync
    finished = Delivery.objects.filter(event=EventKind.RUN_FINISHED, deployment=d)
    assert finished.count() == 1 and "nightly-batch-1796266800 succeeded" in finished.get().payload["text"]
    with pytest.raises(lifecycle.DeploymentConflict, match="runs on its schedule"):
        lifecycle.deployment_run_again(user=deployer, deployment=d)
    # Tear down takes the CronWorkflow and the runs it started; the run records stay.
    lifecycle.deployment_teardown(user=deployer, deployment=d)
    push.deployment_teardown_run(deployment_id=d.pk)
    assert sandbox.objects(WORKFLOWS, "tenant-nlp") == []
    assert sandbox.object("cronworkflows.argoproj.io", "tenant-nlp", "nightly-batch") is None
    assert d.runs.count() == 1


def test_each_run_is_priced_from_the_spend_samples_of_its_own_window(deployer, team):
    # Two runs of 4 GPUs on A100_NVLINK_80GB ($2.70/GPU-hour from 2026-10): one of 30 minutes, one of an hour.
    from datetime import datetime, timedelta, timezone
    from decimal import Decimal

    from deployments.models import Run
    from deployments.selectors_detail import deployment_runs
    from spend.models import StatusSample
    from tests.factories import DeploymentFactory

    d = DeploymentFactory(team=team, name="nightly", workload="batch", target="argo", status=Status.SUCCEEDED,
                          gpu_class="A100_NVLINK_80GB")
    t0 = datetime(2026, 11, 20, 3, 0, tzinfo=timezone.utc)
    windows = [(t0, t0 + timedelta(minutes=30)), (t0 + timedelta(days=1), t0 + timedelta(days=1, hours=1))]
    for number, (start, end) in enumerate(windows, start=1):
        Run.objects.create(deployment=d, number=number, revision=1, workflow_name=f"nightly-run-{number}",
                           status=Status.SUCCEEDED, started_at=start, finished_at=end)
        minutes = int((end - start).total_seconds() // 60)  # sync's heartbeat: a sample a minute while it runs
        StatusSample.objects.bulk_create([
            StatusSample(deployment=d, at=start + timedelta(minutes=m), status="running", ready_pods=4,
                         total_pods=4, gpus_in_use=4, gpu_class="A100_NVLINK_80GB") for m in range(minutes)])
        StatusSample.objects.create(deployment=d, at=end, status="succeeded", ready_pods=0, total_pods=0,
                                    gpus_in_use=0, gpu_class="A100_NVLINK_80GB")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        runs = {r.number: r for r in deployment_runs(d, now=t0 + timedelta(days=2))}
    assert len(queries) <= 4  # runs, samples, prices: not a query per run
    assert runs[1].cost_usd == Decimal("5.40") and runs[1].duration_seconds == 1800  # 4 × 2.70 × 0.5 h
    assert runs[2].cost_usd == Decimal("10.80") and runs[2].duration_seconds == 3600  # 4 × 2.70 × 1 h


def test_the_manifests_shown_are_the_current_runs_workflow(api, login, deployer, team, dispatched):
    d = lifecycle.deployment_create(user=deployer, spec=batch_spec())
    body = api(deployer).get(f"/api/v1/deployments/{d.pk}/manifests/").json()
    assert [m["metadata"]["name"] for m in body["manifests"]] == ["nightly-batch-run-1"]
    page = login(deployer).get(f"/deployments/{d.pk}/").content.decode()
    assert "name: nightly-batch-run-1" in page.split('id="manifests"')[1]
