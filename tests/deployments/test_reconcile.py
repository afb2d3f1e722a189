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
