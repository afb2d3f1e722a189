import pytest
from django.db import IntegrityError

from teams.models import Membership, Role
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def test_team_namespace_is_tenant_slug(team):
    from deployments.models import Deployment

    assert Deployment(team=team, name="x").namespace == "tenant-nlp"


def test_roles_decide_who_may_deploy(owner, deployer, viewer, team):
    roles = {m.user.username: m.can_deploy for m in Membership.objects.filter(team=team)}
    assert roles == {"olivia-owner": True, "dan-deployer": True, "vic-viewer": False}


def test_one_membership_per_user_and_team(viewer, team):
    with pytest.raises(IntegrityError):
        MembershipFactory(user=viewer, team=team, role=Role.OWNER)


def test_seed_demo_creates_login_and_is_idempotent(django_user_model):
    from django.core.management import call_command

    call_command("seed_demo", "--no-deployments")
    call_command("seed_demo", "--no-deployments")
    demo = django_user_model.objects.get(username="demo")
    assert demo.check_password("gantry-demo")
    assert demo.memberships.get().role == Role.OWNER
    assert django_user_model.objects.get(username="admin").is_staff


def test_seed_demo_creates_demo_deployments_once(dispatched, django_user_model, django_capture_on_commit_callbacks):
    from django.core.management import call_command

    from deployments.models import Deployment

    delay = dispatched.push
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo")
    call_command("seed_demo")
    demo = Deployment.objects.filter(team__slug="demo")
    assert sorted(demo.values_list("name", flat=True)) == ["chat", "embeddings", "nightly-batch", "sentiment"]
    assert set(demo.values_list("status", flat=True)) == {"queued"}
    assert delay.call_count == 4  # each pushed once, not again on the second run


def test_seed_demo_with_a_second_cluster_puts_a_deployment_in_its_region(dispatched, tmp_path):
    from django.core.management import call_command

    from clusters.models import Cluster
    from clusters.selectors import cluster_for_region
    from deployments.models import Deployment

    kubeconfig = tmp_path / "kubeconfig-b"
    call_command("seed_demo", "--second-cluster", str(kubeconfig))
    call_command("seed_demo", "--second-cluster", str(kubeconfig))
    cluster = Cluster.objects.get()
    assert cluster.name == "sandbox-b" and cluster.kubeconfig_path == str(kubeconfig)
    assert list(cluster.regions.values_list("code", flat=True)) == ["ORD1"]
    translate = Deployment.objects.get(name="translate")
    assert translate.region == "ORD1" and cluster_for_region(translate.region).name == "sandbox-b"
    assert Deployment.objects.filter(team__slug="demo").count() == 5


def test_the_team_a_spec_names_is_found_with_what_the_users_role_allows(owner, deployer, viewer, team,
                                                                        django_assert_num_queries):
    from teams.selectors import team_access
    from tests.factories import TeamFactory, UserFactory

    TeamFactory(slug="other")
    with django_assert_num_queries(1):
        found, may_deploy = team_access(deployer, "nlp")
    assert (found.pk, may_deploy) == (team.pk, True)
    with django_assert_num_queries(1):  # a viewer's refusal too: one read, whatever the role
        assert team_access(viewer, "nlp")[1] is False
    assert (team_access(owner, "nlp")[0].pk, team_access(owner, "nlp")[1]) == (team.pk, True)
    assert (team_access(viewer, "nlp")[0].pk, team_access(viewer, "nlp")[1]) == (team.pk, False)  # told: no role
    assert team_access(deployer, "other") == (None, False)  # not a member: the team is unknown to them
    assert team_access(deployer, "missing") == (None, False)
    assert team_access(UserFactory(is_staff=True), "other")[1] is True
    assert team_access(None, "nlp")[0].pk == team.pk
