"""The fleet page shows each cluster's free GPUs by class: as reported, staff's override marked, draining said."""

import pytest
from django.urls import reverse

from catalog.models import Region, RegionOffering
from clusters.models import Cluster
from deployments.services.capacity import capacity_refresh
from sandbox.nodes import gpu_nodes
from tests.factories import DeploymentFactory

pytestmark = pytest.mark.timeout(60)


def _cluster(name, sandbox, region, **fields):
    cluster = Cluster.objects.create(name=name, kubeconfig_path=sandbox.kubeconfig_path, **fields)
    cluster.regions.set([Region.objects.get(code=region)])
    return cluster


def _row(text, slug):
    return text.split(f'id="cluster-{slug}"')[1].split("</tr>")[0]


def test_each_cluster_shows_its_free_gpus_by_class(login, staff, team, sandbox, sandbox_b, settings):
    settings.KUBECONFIG = ""
    sandbox.nodes_set(gpu_nodes(regions=["LAS1"], classes=["A40", "RTX_A5000"]))
    sandbox_b.nodes_set(gpu_nodes(regions=["ORD1"], classes=["A40"], per_class=2))
    RegionOffering.objects.filter(region__code__in=["LAS1", "ORD1"]).update(override_gpus=None)
    RegionOffering.objects.filter(region__code="LAS1", gpu_class__name="RTX_A5000").update(override_gpus=40)
    _cluster("las", sandbox, "LAS1")
    _cluster("ord", sandbox_b, "ORD1", draining=True)
    DeploymentFactory(team=team, name="chicago", region="ORD1", gpu_class="A40", gpus_in_use=2)
    capacity_refresh()

    page = login(staff).get(reverse("fleet"))

    rows = {row["name"]: row for row in page.context["clusters"]}
    las = {g["gpu_class"]: g for g in rows["las"]["gpus_free"]}
    assert (las["A40"]["free"], las["A40"]["source"]) == (8, "reported")
    assert (las["RTX_A5000"]["free"], las["RTX_A5000"]["source"], las["RTX_A5000"]["reported"]) == (40, "override", 8)
    las_row, ord_row = _row(page.text, "las"), _row(page.text, "ord")
    assert "<code>A40</code>: 8</div>" in las_row
    assert "<code>RTX_A5000</code>: 40 <span" in las_row and "override" in las_row and "cluster reports 8" in las_row
    assert "reported just now" in las_row
    assert "draining" not in las_row
    # ord drains: its reports are shown, and that new deployments get none of them.
    assert "draining</span> no new deployments" in ord_row and "<code>A40</code>: 16</div>" in ord_row
    # The GPUs-in-use table marks the chicago deployment's region as draining too.
    in_use = page.text.split('id="gpus"')[1].split("</table>")[0]
    assert "ORD1" in in_use and "draining" in in_use
