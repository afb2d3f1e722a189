"""The push and teardown tasks, run in this process with Task.apply (retries included) against the sandbox.

The worker subprocess version of the same story is in test_worker_e2e.py.
"""

import pytest

from audit.models import Event
from deployments import tasks
from deployments.models import Deployment, Revision
from deployments.services import lifecycle
from specs.vocabulary import Status
from tests.cluster_helpers import KSVC, requests_matching
from tests.factories import online_spec

pytestmark = [pytest.mark.timeout(30), pytest.mark.django_db]

KSVC_PATH = r"/services/llama-chat$"


@pytest.fixture
def fast_retries(settings):
    settings.PUSH_RETRY_BASE_SECONDS = 0
    settings.PUSH_MAX_RETRIES = 3


@pytest.fixture
def queued(deployer):
    return lifecycle.deployment_create(user=deployer, spec=online_spec())


def ksvc_patches(sandbox):
    return requests_matching(sandbox, "PATCH", "/services/llama-chat")


def test_transient_errors_are_retried_until_the_push_goes_through(sandbox, sandbox_kubeconfig, fast_retries, queued):
    sandbox.fail_next("PATCH", KSVC_PATH, status=503, times=2)
    sandbox.drop_next("PATCH", KSVC_PATH, times=1)
    tasks.push_deployment.apply(args=[queued.pk, 1])

    queued.refresh_from_db()
    assert (queued.status, queued.applied_revision, queued.status_message) == (Status.APPLYING, 1, "")
    assert len(ksvc_patches(sandbox)) == 4
    assert sandbox.object(KSVC, "tenant-nlp", "llama-chat") is not None


def test_a_push_that_keeps_failing_gives_up_after_the_bound(sandbox, sandbox_kubeconfig, fast_retries, queued):
    sandbox.fail_next("PATCH", KSVC_PATH, status=503, times=50, message="etcdserver: request timed out")
    tasks.push_deployment.apply(args=[queued.pk, 1])

    queued.refresh_from_db()
    assert queued.status == Status.FAILED
    assert "etcdserver: request timed out" in queued.status_message and "4 attempts" in queued.status_message
    assert len(ksvc_patches(sandbox)) == 4  # the first try and three retries


def test_an_invalid_object_fails_at_once_with_the_servers_message(sandbox, sandbox_kubeconfig, fast_retries, queued):
    revision = queued.current_revision
    revision.manifests[0]["spec"]["template"]["spec"]["containers"][0]["gpuCount"] = 1
    Revision.objects.filter(pk=revision.pk).update(manifests=revision.manifests)

    tasks.push_deployment.apply(args=[queued.pk, 1])

    queued.refresh_from_db()
    assert queued.status == Status.FAILED
    assert "is invalid" in queued.status_message and "gpuCount" in queued.status_message
    assert len(ksvc_patches(sandbox)) == 1  # permanent: not retried
    failed = queued.events.get(to_status=Status.FAILED)
    assert failed.kind == Event.Kind.STATUS and "gpuCount" in failed.message


def test_teardown_task_removes_the_objects(sandbox, sandbox_kubeconfig, deployer, queued):
    tasks.push_deployment.apply(args=[queued.pk, 1])
    lifecycle.deployment_teardown(user=deployer, deployment=Deployment.objects.get(pk=queued.pk))
    sandbox.fail_next("DELETE", KSVC_PATH, status=503)  # retried like a push
    tasks.teardown_deployment.apply(args=[queued.pk])
    assert Deployment.objects.get(pk=queued.pk).status == Status.DELETED
    assert sandbox.object(KSVC, "tenant-nlp", "llama-chat") is None


def test_retry_delays_grow_exponentially_with_jitter(settings):
    settings.PUSH_RETRY_BASE_SECONDS = 1.0
    for attempt in range(5):
        delays = {tasks.retry_countdown(attempt) for _ in range(20)}
        assert all(2 ** attempt * 0.5 <= d <= 2 ** attempt for d in delays)
        assert len(delays) > 1  # jittered: failed pushes do not come back in lockstep
    assert tasks.retry_countdown(30) <= tasks.RETRY_CAP_SECONDS


def test_every_name_dispatch_and_beat_use_is_a_registered_task(settings):
    from deployments import dispatch
    from portal.celery import app

    names = {dispatch.PUSH, dispatch.TEARDOWN, dispatch.SYNC, dispatch.RECONCILE, dispatch.ROLLUP, dispatch.CAPACITY}
    app.loader.import_default_modules()
    assert names <= set(app.tasks)
    assert {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()} <= names


def test_a_teardown_the_cluster_refuses_ends_visible_and_can_be_retried(sandbox, sandbox_kubeconfig, deployer,
                                                                         queued, staff, login):
    # Issue 13 item 4: a 403 on DELETE used to be retried forever, silently.
    tasks.push_deployment.apply(args=[queued.pk, 1])
    lifecycle.deployment_teardown(user=deployer, deployment=Deployment.objects.get(pk=queued.pk))
    sandbox.fail_next("DELETE", KSVC_PATH, status=403)
    tasks.teardown_deployment.apply(args=[queued.pk])
    d = Deployment.objects.get(pk=queued.pk)
    assert d.status == Status.TEARDOWN_FAILED
    assert d.status_message == "deleting Service tenant-nlp/llama-chat: injected fault"  # the server's own words
    assert sandbox.object(KSVC, "tenant-nlp", "llama-chat") is not None  # still there, and the page says so
    page = login(staff).get(f"/deployments/{d.pk}/").content.decode()
    assert "Tear down failed" in page

    lifecycle.deployment_teardown(user=staff, deployment=d)  # staff retry once the permission is fixed
    assert Deployment.objects.get(pk=d.pk).status == Status.DELETING
    tasks.teardown_deployment.apply(args=[d.pk])
    assert Deployment.objects.get(pk=d.pk).status == Status.DELETED
    assert sandbox.object(KSVC, "tenant-nlp", "llama-chat") is None


def test_the_capacity_task_writes_what_the_cluster_reports(sandbox, sandbox_kubeconfig, db):
    from catalog.models import RegionOffering

    result = tasks.refresh_capacity.apply().get()

    assert result["read"] == ["default"] and not result["failed"]
    a40 = RegionOffering.objects.get(region__code="LAS1", gpu_class__name="A40")
    assert a40.reported_at is not None and a40.available_source == "reported"
