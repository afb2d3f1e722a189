"""Staff declare clusters in the console: audited, a path reference only, one enabled cluster per region."""

import pytest
from django.urls import reverse

from audit.models import Event
from catalog.models import Region
from clusters.client import ClusterRef
from clusters.models import Cluster
from clusters.selectors import cluster_for_region, clusters_by_region

ADD = "admin:clusters_cluster_add"


def _form(name, region, **fields):
    return {"name": name, "regions": [str(Region.objects.get(code=region).pk)], "connection": "kubeconfig",
            "kubeconfig_path": f"/etc/gantry/clusters/{name}/kubeconfig", "context": "", "enabled": "on",
            "_save": "Save", **fields}


def test_staff_add_a_cluster_and_the_audit_log_says_so(login, staff):
    response = login(staff).post(reverse(ADD), _form("ord", "ORD1", context="ord-admin"))

    assert response.status_code == 302
    cluster = Cluster.objects.get(name="ord")
    assert cluster_for_region("ORD1") == ClusterRef(name="ord", kubeconfig="/etc/gantry/clusters/ord/kubeconfig",
                                                    context="ord-admin")
    assert cluster_for_region("LAS1") is None  # no record serves it: the default cluster
    event = Event.objects.get(kind=Event.Kind.ADMIN)
    assert event.actor == staff and event.message == f"Added cluster {cluster}"


def test_a_region_has_one_enabled_cluster(login, staff):
    client = login(staff)
    client.post(reverse(ADD), _form("ord", "ORD1"))

    response = client.post(reverse(ADD), _form("ord-2", "ORD1"))

    assert response.status_code == 200
    assert "Already served by another enabled cluster: ORD1 (ord)" in str(response.context["adminform"].form.errors)
    # A disabled cluster may wait for the region (say, while its nodes are built).
    assert client.post(reverse(ADD), _form("ord-2", "ORD1", enabled="")).status_code == 302
    assert clusters_by_region() == {"ORD1": Cluster.objects.get(name="ord").ref()}


@pytest.mark.parametrize("fields, error", [
    ({"kubeconfig_path": ""}, "needs the path of its file"),
    ({"kubeconfig_path": "clusters/ord.yaml"}, "An absolute path"),
    ({"connection": "in_cluster"}, "takes no kubeconfig path"),
])
def test_a_connection_is_a_reference_that_makes_sense(login, staff, fields, error):
    response = login(staff).post(reverse(ADD), _form("ord", "ORD1", **fields))

    assert response.status_code == 200 and error in str(response.context["adminform"].form.errors)
    assert not Cluster.objects.exists()
