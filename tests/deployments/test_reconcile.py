"""Reconcile (issue 13 item 2): objects left in the cluster by a deployment that is gone are removed."""

import clusters
from audit.models import Event
from deployments.models import Deployment
from deployments.services import lifecycle, push
from deployments.services.manifests import revision_manifests
from deployments.services.reconcile import reconcile
from tests.cluster_helpers import KSVC
from tests.factories import online_spec


def test_reconcile_removes_objects_of_a_deployment_that_is_gone(sandbox, sandbox_kubeconfig, deployer):
    gone = lifecycle.deployment_create(user=deployer, spec=online_spec(name="gone"))
    kept = lifecycle.deployment_create(user=deployer, spec=online_spec(name="kept"))
    for d in (gone, kept):
        assert push.deployment_push(deployment_id=d.pk, revision=1)
    # "gone" was deleted while its objects were (as before the fix) re-applied behind the tear down's back.
    Deployment.objects.filter(pk=gone.pk).update(status="deleted")
    clusters.objects_apply(revision_manifests(gone, gone.current_revision))
    assert reconcile()["orphans"] == 1
    assert sandbox.object(KSVC, "tenant-nlp", "gone") is None
    assert sandbox.object(KSVC, "tenant-nlp", "kept") is not None
    assert Event.objects.filter(deployment_id=gone.pk, message__contains="left in the cluster").exists()


def test_a_target_change_keeps_the_old_service_until_the_new_one_is_ready_then_removes_it(
        sandbox, sandbox_kubeconfig, deployer):
    from tests.cluster_helpers import ISVC, deployment_pushed

    d = deployment_pushed(deployer, name="switch")
    lifecycle.deployment_update(user=deployer, deployment=d, spec=online_spec(name="switch", target="kserve"))
    assert push.deployment_push(deployment_id=d.pk, revision=2)
    d.refresh_from_db()
    assert d.superseded == [{"apiVersion": "serving.knative.dev/v1", "kind": "Service", "name": "switch", "cluster": None}]
    # Applying: the Knative Service still answers while the InferenceService starts.
    assert reconcile()["superseded"] == 0
    assert sandbox.object(KSVC, "tenant-nlp", "switch") is not None
    # Ready: exactly one object is left, and the event says why the old one went.
    Deployment.objects.filter(pk=d.pk).update(status="running")
    assert reconcile()["superseded"] == 1
    assert sandbox.object(KSVC, "tenant-nlp", "switch") is None
    assert sandbox.object(ISVC, "tenant-nlp", "switch") is not None
    assert Deployment.objects.get(pk=d.pk).superseded == []
    assert Event.objects.filter(deployment_id=d.pk, message__startswith="Removed Service tenant-nlp/switch").exists()


def test_switching_back_before_the_new_target_was_ready_keeps_the_original(sandbox, sandbox_kubeconfig, deployer):
    from tests.cluster_helpers import ISVC, deployment_pushed

    d = deployment_pushed(deployer, name="flip")
    lifecycle.deployment_update(user=deployer, deployment=d, spec=online_spec(name="flip", target="kserve"))
    assert push.deployment_push(deployment_id=d.pk, revision=2)
    d.refresh_from_db()
    lifecycle.deployment_update(user=deployer, deployment=d, spec=online_spec(name="flip", target="knative"))
    assert push.deployment_push(deployment_id=d.pk, revision=3)
    d.refresh_from_db()
    assert d.superseded == [{"apiVersion": "serving.kserve.io/v1beta1", "kind": "InferenceService", "name": "flip",
                             "cluster": None}]
    Deployment.objects.filter(pk=d.pk).update(status="running")
    reconcile()
    assert sandbox.object(KSVC, "tenant-nlp", "flip") is not None
    assert sandbox.object(ISVC, "tenant-nlp", "flip") is None
