"""Status sync, reconcile and drift, against the sandbox cluster and its simulator."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

import clusters as cluster
from audit.models import Event
from deployments.models import Deployment
from deployments.services import lifecycle, push
from deployments.services.reconcile import reconcile
from deployments.services.sync import status_sync
from deployments.state import WARM, scale_to_zero_state
from specs.vocabulary import Status
from spend.models import StatusSample
from tests.cluster_helpers import KSVC, WORKFLOWS, deployment_pushed
from tests.factories import online_spec

pytestmark = [pytest.mark.timeout(60), pytest.mark.django_db]


def simulate(sandbox, seconds=30, steps=2):
    """Let the simulated controllers run: pods get created, start and become ready."""
    for _ in range(steps):
        sandbox.simulator.tick()
        sandbox.simulator.advance(seconds)
    sandbox.simulator.tick()


def running_pods_by_deployment(sandbox, namespace):
    counts = {}
    for pod in sandbox.objects("pods", namespace):
        if pod.get("status", {}).get("phase") == "Running":
            name = pod["metadata"]["labels"]["gantry.io/deployment"]
            counts[name] = counts.get(name, 0) + 1
    return counts


def test_sync_counts_pods_for_many_deployments_in_one_namespace(sandbox, sandbox_kubeconfig, deployer):
    expected = {}
    for i in range(12):
        max_replicas = (2, 4, 6)[i % 3]
        d = deployment_pushed(deployer, name=f"svc-{i}", scaling={"min_replicas": 0, "max_replicas": max_replicas})
        sandbox.simulator.set_traffic("tenant-nlp", d.name, "steady")
        expected[d.name] = max_replicas // 2
    simulate(sandbox)

    result = status_sync()

    assert result == {"namespaces": 1, "deployments": 12, "changed": 12}
    truth = running_pods_by_deployment(sandbox, "tenant-nlp")
    assert truth == expected
    for d in Deployment.objects.all():
        assert (d.status, d.ready_pods, d.total_pods) == (Status.RUNNING, expected[d.name], expected[d.name]), d.name
        assert d.gpus_in_use == expected[d.name] * d.gpus_per_replica
        assert d.url == f"http://{d.name}.tenant-nlp.example.com" and d.last_synced_at
    assert StatusSample.objects.count() == 12
    assert Event.objects.filter(kind=Event.Kind.STATUS, from_status="applying", to_status="running").count() == 12


def test_api_calls_per_cycle_grow_with_namespaces_not_deployments(sandbox, sandbox_kubeconfig, deployer, outsider):
    for i in range(3):
        deployment_pushed(deployer, name=f"a-{i}")
    deployment_pushed(outsider, name="b-0", team="vision")
    simulate(sandbox)
    sandbox.clear_log()
    status_sync()
    few = [(r.method, r.path) for r in sandbox.requests]

    for i in range(3, 10):
        deployment_pushed(deployer, name=f"a-{i}")
    simulate(sandbox)
    sandbox.clear_log()
    status_sync()
    many = [(r.method, r.path) for r in sandbox.requests]

    # Per namespace: one pods list, one Knative Service list and one Revision list (the warm state),
    # whatever the number of deployments.
    assert sorted(few) == sorted(many) == sorted([
        ("GET", "/api/v1/namespaces/tenant-nlp/pods"),
        ("GET", "/apis/serving.knative.dev/v1/namespaces/tenant-nlp/services"),
        ("GET", "/apis/serving.knative.dev/v1/namespaces/tenant-nlp/revisions"),
        ("GET", "/api/v1/namespaces/tenant-vision/pods"),
        ("GET", "/apis/serving.knative.dev/v1/namespaces/tenant-vision/services"),
        ("GET", "/apis/serving.knative.dev/v1/namespaces/tenant-vision/revisions"),
    ])


def test_sql_queries_per_cycle_do_not_grow_with_deployments(sandbox, sandbox_kubeconfig, deployer, team):
    team.gpu_quota = 500
    team.save()

    def cycle_queries():
        simulate(sandbox, steps=1)
        status_sync()  # the first cycle after a push also writes transitions
        with CaptureQueriesContext(connection) as ctx:
            status_sync()
        return len(ctx.captured_queries)

    for i in range(5):
        deployment_pushed(deployer, name=f"s-{i}")
    five = cycle_queries()
    for i in range(5, 50):
        deployment_pushed(deployer, name=f"s-{i}")
    fifty = cycle_queries()
    assert fifty == five <= 8
    assert StatusSample.objects.filter(deployment__name="s-49").exists()


def test_scale_to_zero_is_reported_as_scaled_to_zero_not_failed(sandbox, sandbox_kubeconfig, deployer):
    d = deployment_pushed(deployer, name="sometimes", scaling={"min_replicas": 0, "max_replicas": 2,
                                                               "scale_to_zero_retention": "5m"})
    sandbox.simulator.set_traffic("tenant-nlp", "sometimes", "steady")
    simulate(sandbox)
    status_sync()
    d.refresh_from_db()
    assert d.status == Status.RUNNING and d.ready_pods == 1
    assert d.idle_since is None  # busy: active, not warm

    sandbox.simulator.set_traffic("tenant-nlp", "sometimes", "idle")
    simulate(sandbox, seconds=60)
    status_sync()
    d.refresh_from_db()
    assert d.status == Status.RUNNING and d.ready_pods == 1
    # Kept warm by the retention window: Knative marked the revision inactive after a stable window
    # without requests, 60 s ago, so 4 of the 5 minutes are left (read from the Revision's Active condition).
    state, left = scale_to_zero_state(d, retention_seconds=300, min_replicas=0, now=timezone.now())
    assert state == WARM and 235 <= left.total_seconds() <= 241

    simulate(sandbox, seconds=400)
    assert sandbox.objects("pods", "tenant-nlp") == []
    status_sync()
    d.refresh_from_db()
    assert (d.status, d.ready_pods, d.total_pods, d.gpus_in_use) == (Status.SCALED_TO_ZERO, 0, 0, 0)
    assert d.idle_since is None
    assert d.scaled_to_zero_at is not None and d.url  # still reachable: the next request wakes it
    assert StatusSample.objects.filter(deployment=d).latest("at").status == Status.SCALED_TO_ZERO

    sandbox.simulator.set_traffic("tenant-nlp", "sometimes", "steady")
    simulate(sandbox)
    status_sync()
    d.refresh_from_db()
    assert d.status == Status.RUNNING
    assert list(d.events.filter(kind=Event.Kind.STATUS).values_list("to_status", flat=True).order_by("id")) == [
        "applying", "running", "scaled_to_zero", "running"
    ]


def test_a_batch_run_ends_succeeded_with_its_shards_counted(sandbox, sandbox_kubeconfig, deployer):
    d = deployment_pushed(deployer, name="nightly", batch=True)
    assert d.target == "argo"
    for _ in range(20):
        simulate(sandbox, seconds=120, steps=1)
        status_sync()
        d.refresh_from_db()
        if d.status == Status.SUCCEEDED:
            break
    assert d.status == Status.SUCCEEDED
    assert d.shards_total == 2 and d.shards_done == 2
    assert d.run_started_at and d.run_finished_at and d.run_finished_at >= d.run_started_at
    workflow = sandbox.object(WORKFLOWS, "tenant-nlp", "nightly-run-1")  # each run is its own Workflow
    assert workflow["status"]["phase"] == "Succeeded"
    run = d.runs.get()
    assert (run.number, run.status, run.shards_done, run.shards_total) == (1, "succeeded", 2, 2)
    assert run.started_at == d.run_started_at and run.finished_at == d.run_finished_at


def test_a_deployment_being_deleted_ends_deleted_once_its_objects_are_gone(sandbox, sandbox_kubeconfig, deployer):
    d = lifecycle.deployment_create(user=deployer, spec=online_spec())  # never pushed
    lifecycle.deployment_teardown(user=deployer, deployment=d)
    status_sync()
    d.refresh_from_db()
    assert d.status == Status.DELETED


def test_reconcile_requeues_a_push_that_never_ran(sandbox, sandbox_kubeconfig, deployer, settings, dispatched,
                                                  django_capture_on_commit_callbacks):
    settings.STUCK_AFTER_SECONDS = 30
    d = lifecycle.deployment_create(user=deployer, spec=online_spec())
    fresh = lifecycle.deployment_create(user=deployer, spec=online_spec(name="fresh"))
    Deployment.objects.filter(pk=d.pk).update(updated_at=timezone.now() - timedelta(minutes=5))

    with django_capture_on_commit_callbacks(execute=True):
        assert reconcile()["requeued"] == 1
        assert reconcile()["requeued"] == 0  # not queued twice
    dispatched.push.assert_called_once_with(d.pk, 1)
    assert d.events.filter(kind=Event.Kind.PUSH, message__contains="re-queued").exists()
    assert not fresh.events.filter(kind=Event.Kind.PUSH).exists()


def test_reconcile_puts_back_an_object_deleted_or_changed_in_the_cluster(sandbox, sandbox_kubeconfig, deployer):
    d = deployment_pushed(deployer, name="llama-chat")
    simulate(sandbox)
    status_sync()
    assert reconcile() == {"requeued": 0, "drifted": 0, "orphans": 0, "superseded": 0}

    ksvc = cluster.object_get({"apiVersion": "serving.knative.dev/v1", "kind": "Service",
                               "metadata": {"name": "llama-chat", "namespace": "tenant-nlp"}})
    cluster.objects_delete([ksvc])
    assert reconcile()["drifted"] == 1
    assert sandbox.object(KSVC, "tenant-nlp", "llama-chat") is not None
    d.refresh_from_db()
    assert d.drift_detected_at is not None
    assert "missing" in d.events.filter(kind=Event.Kind.DRIFT).latest("id").message

    # Someone edits the image by hand (another field manager): Gantry takes its field back.
    from kubernetes import client

    api = client.CustomObjectsApi(sandbox.api_client())
    api.patch_namespaced_custom_object(
        "serving.knative.dev", "v1", "tenant-nlp", "services", "llama-chat",
        {"spec": {"template": {"spec": {"containers": [{"name": "model", "image": "evil/miner:latest"}]}}}},
    )
    assert reconcile()["drifted"] == 1
    live = sandbox.object(KSVC, "tenant-nlp", "llama-chat")
    assert live["spec"]["template"]["spec"]["containers"][0]["image"] == "ghcr.io/acme/llm-server:1.4"
    assert "changed in the cluster" in d.events.filter(kind=Event.Kind.DRIFT).latest("id").message
    assert reconcile()["drifted"] == 0


def test_a_change_being_pushed_is_not_reported_running_from_the_old_revision(sandbox, sandbox_kubeconfig, deployer):
    d = deployment_pushed(deployer, name="llama-chat")
    simulate(sandbox)
    status_sync()
    d.refresh_from_db()
    assert d.status == Status.RUNNING
    lifecycle.deployment_update(user=deployer, deployment=d, spec=online_spec(
        runtime={"image": "ghcr.io/acme/llm-server:2.0", "port": 8080, "protocol": "http"}))
    # The push task has moved it to applying but not yet applied revision 2 when sync runs.
    assert lifecycle.deployment_transition(deployment=d, expected=Status.QUEUED, new=Status.APPLYING)
    status_sync()
    assert Deployment.objects.get(pk=d.pk).status == Status.APPLYING

    assert push.deployment_push(deployment_id=d.pk, revision=2)
    simulate(sandbox)
    status_sync()
    d.refresh_from_db()
    assert (d.status, d.applied_revision) == (Status.RUNNING, 2)
    live = sandbox.object(KSVC, "tenant-nlp", "llama-chat")
    assert live["metadata"]["annotations"]["gantry.io/revision"] == "2"


def test_samples_are_written_on_change_and_as_a_heartbeat_not_every_cycle(sandbox, sandbox_kubeconfig, deployer,
                                                                          settings):
    settings.SAMPLE_HEARTBEAT_SECONDS = 60
    d = deployment_pushed(deployer, name="steady", scaling={"min_replicas": 1, "max_replicas": 3})
    sandbox.simulator.set_traffic("tenant-nlp", "steady", "steady")
    simulate(sandbox)
    for _ in range(3):
        status_sync()
    assert StatusSample.objects.filter(deployment=d).count() == 1  # nothing changed between cycles
    assert StatusSample.objects.get(deployment=d).gpu_class == d.gpu_class != ""  # priced at the class it ran on

    sandbox.simulator.set_traffic("tenant-nlp", "steady", "idle")  # down to its minimum of one pod
    simulate(sandbox, seconds=120)
    status_sync()
    d.refresh_from_db()
    assert d.ready_pods == 1
    assert list(StatusSample.objects.filter(deployment=d).values_list("ready_pods", flat=True)) == [2, 1]

    Deployment.objects.filter(pk=d.pk).update(sampled_at=timezone.now() - timedelta(seconds=61))
    status_sync()
    assert StatusSample.objects.filter(deployment=d).count() == 3  # the heartbeat keeps spend metered


def test_reconcile_rebuilds_deployments_on_a_cluster_that_lost_everything(sandbox, sandbox_kubeconfig, deployer):
    """A rebuilt (or restarted sandbox) cluster: namespace and objects are gone; reconcile puts them back."""
    d = deployment_pushed(deployer, name="llama-chat")
    simulate(sandbox)
    status_sync()
    sandbox.reset()
    assert sandbox.object(KSVC, "tenant-nlp", "llama-chat") is None
    assert reconcile()["drifted"] == 1
    assert sandbox.object(KSVC, "tenant-nlp", "llama-chat") is not None
    assert "re-applied" in d.events.filter(kind=Event.Kind.DRIFT).latest("id").message


def test_a_batch_run_whose_workflow_vanished_is_reported_failed_not_running_forever(sandbox, sandbox_kubeconfig,
                                                                                    deployer):
    d = deployment_pushed(deployer, name="nightly", batch=True)
    sandbox.simulator.tick()
    status_sync()
    d.refresh_from_db()
    assert d.status == Status.RUNNING
    sandbox.reset()
    status_sync()
    d.refresh_from_db()
    assert d.status == Status.FAILED
    assert "disappeared from the cluster" in d.status_message


def _status_set(sandbox, name, status):
    """Write a status the CRD schema would refuse (an older or broken controller, a server without the
    schema): straight into the sandbox's store, since its API validates like a real server."""
    from sandbox.resources import resource_type

    store = sandbox.store
    with store._lock:
        store._objects[(resource_type(KSVC), "tenant-nlp", name)]["status"] = status


def test_one_malformed_object_does_not_stop_the_sync_of_the_others(sandbox, sandbox_kubeconfig, deployer):
    # Issue 13 item 8: `conditions: ["oops"]` or a 300+ character URL used to make every cycle raise.
    good = deployment_pushed(deployer, name="good")
    odd = deployment_pushed(deployer, name="odd")
    hostile = deployment_pushed(deployer, name="hostile")
    simulate(sandbox)
    _status_set(sandbox, "odd", {"conditions": ["oops", {"type": "Ready", "status": "True"}], "url": "x" * 400})
    _status_set(sandbox, "hostile", {"conditions": [{"type": "Ready", "status": "True", "message": 5}],
                                     "url": "javascript:alert(1)"})
    result = status_sync()
    assert result["deployments"] == 3
    for d in (good, odd, hostile):
        d.refresh_from_db()
    assert good.status == Status.RUNNING and good.url.startswith("http://good.")
    assert odd.status == Status.RUNNING and odd.url == ""          # too long to be a URL Gantry stores
    assert hostile.url == ""                                      # never rendered as a link


def test_a_change_made_while_a_sync_is_in_flight_is_never_reported_as_running(sandbox, sandbox_kubeconfig,
                                                                                deployer, monkeypatch):
    # Issue 13 item 3: the sync used revision numbers read before its row lock and set revision 2 back to
    # "running" while the cluster still ran revision 1; the push retry then skipped it.
    d = deployment_pushed(deployer, name="chat")
    simulate(sandbox)
    assert status_sync()["changed"] == 1
    d.refresh_from_db()
    assert d.status == Status.RUNNING and d.applied_revision == 1

    real_observe = cluster.namespace_observe

    def observe_then_change(namespace, targets, **kwargs):
        seen = real_observe(namespace, targets, **kwargs)  # the sync has read the cluster: revision 1 runs
        changed = lifecycle.deployment_update(user=deployer, deployment=Deployment.objects.get(pk=d.pk),
                                              spec={**online_spec(name="chat"), "scaling": {"max_replicas": 3}})
        lifecycle.deployment_transition(deployment=changed, expected=Status.QUEUED, new=Status.APPLYING,
                                        message="Applying revision 2")  # the push started, its apply retries
        return seen

    monkeypatch.setattr(cluster, "namespace_observe", observe_then_change)
    status_sync()
    d.refresh_from_db()
    assert (d.status, d.current_revision.number, d.applied_revision) == (Status.APPLYING, 2, 1)
    monkeypatch.undo()
    assert push.deployment_push(deployment_id=d.pk, revision=2)  # the retry still applies revision 2
    d.refresh_from_db()
    assert d.applied_revision == 2


def test_only_one_status_sync_runs_at_a_time(sandbox, sandbox_kubeconfig, deployer):
    # Issue 13 item 9a: two syncs locking rows in different orders deadlocked in PostgreSQL.
    from django.db import connections

    from deployments.services.sync import SYNC_LOCK

    deployment_pushed(deployer, name="chat")
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [SYNC_LOCK])
        assert status_sync() == {"namespaces": 0, "deployments": 0, "changed": 0, "skipped": True}
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [SYNC_LOCK])
        assert status_sync()["deployments"] == 1
    finally:
        other.close()


def test_time_to_ready_is_measured_per_revision_from_push_start_to_ready(sandbox, sandbox_kubeconfig, deployer):
    from django.db.models import F

    from deployments.models import Revision

    d = deployment_pushed(deployer, name="timed")
    first = Revision.objects.get(deployment=d, number=1)
    assert first.pushed_at is not None and first.ready_at is None
    # As if the push had begun 42 s before the cluster said ready (the simulator's clock is not the wall's).
    Revision.objects.filter(pk=first.pk).update(pushed_at=F("pushed_at") - timedelta(seconds=42))
    status_sync()
    assert Revision.objects.get(pk=first.pk).ready_at is None  # applying: not ready yet

    simulate(sandbox)
    status_sync()
    first.refresh_from_db()
    assert 41 <= first.ready_seconds < 50  # condition times have one-second resolution
    simulate(sandbox)
    status_sync()
    assert Revision.objects.get(pk=first.pk).ready_at == first.ready_at  # the first time it was ready

    d.refresh_from_db()
    lifecycle.deployment_update(user=deployer, deployment=d, spec=online_spec(
        name="timed", runtime={"image": "ghcr.io/acme/llm-server:2.0", "port": 8080, "protocol": "http"}))
    assert push.deployment_push(deployment_id=d.pk, revision=2)
    second = Revision.objects.get(deployment=d, number=2)
    assert second.pushed_at >= first.ready_at and second.ready_at is None
    simulate(sandbox)
    status_sync()
    second.refresh_from_db()
    assert second.ready_at >= second.pushed_at
    assert Revision.objects.get(pk=first.pk).ready_at == first.ready_at


@pytest.mark.django_db
def test_heartbeats_are_written_in_batches_the_longest_unsampled_first(team, settings):
    # The watcher writes a batch between two flushes, so a pod change never waits for thousands of samples.
    from django.db.models import Q

    from deployments.services.sync import heartbeats_write
    from tests.factories import DeploymentFactory

    now = timezone.now()
    ages = {"oldest": 600, "older": 300, "old": settings.SAMPLE_HEARTBEAT_SECONDS + 5, "fresh": 1}
    made = {name: DeploymentFactory(team=team, name=name, ready_pods=1, total_pods=1) for name in ages}
    for name, seconds in ages.items():
        Deployment.objects.filter(pk=made[name].pk).update(sampled_at=now - timedelta(seconds=seconds))

    def sampled():
        return set(StatusSample.objects.filter(at=now).values_list("deployment__name", flat=True))

    assert heartbeats_write(now, where=Q(), limit=2) == 2
    assert sampled() == {"oldest", "older"}
    assert heartbeats_write(now, where=Q(), limit=2) == 1
    assert sampled() == {"oldest", "older", "old"}
    assert heartbeats_write(now, where=Q(), limit=2) == 0, "the fresh one is not due"
