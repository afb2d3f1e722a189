"""factory_boy factories for teams, users and deployments."""

import factory
from django.contrib.auth import get_user_model

from deployments.models import Deployment, Revision
from deployments.services.quota import spec_gpus_max
from specs.vocabulary import Status, Target, Workload
from teams.models import Membership, Role, Team


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("pw-for-tests-1")


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"team{n}")
    name = factory.LazyAttribute(lambda t: t.slug.title())
    monthly_budget_usd = 100000
    gpu_quota = 64


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    team = factory.SubFactory(TeamFactory)
    role = Role.DEPLOYER


def _model():
    """An 8B bf16 model serialized with Tensorizer (a fresh dict: tests mutate specs)."""
    return {"uri": "s3://models/llama-3-8b/model.tensors", "parameters_billions": 8.0,
            "precision": "bf16", "format": "tensorizer"}


def online_spec(team="nlp", name="llama-chat", **overrides):
    """A complete, valid online spec in the SPEC.md shape (before recommendations)."""
    spec = {
        "name": name,
        "team": team,
        "workload": "online",
        "target": "knative",
        "runtime": {"image": "ghcr.io/acme/llm-server:1.4", "port": 8080, "protocol": "http"},
        "model": _model(),
        "storage": {"credentials_secret": "s3-creds"},
        "compute": {"region": "LAS1"},
        "scaling": {"min_replicas": 0, "max_replicas": 2, "latency_tolerance": "moderate"},
        "access": {"visibility": "public", "cross_cloud_clients": False},
        "request_queue": False,
        "models_per_gpu": 1,
        "region_preference": "best-availability",
    }
    spec.update(overrides)
    return spec


def batch_spec(team="nlp", name="nightly-batch", **overrides):
    spec = {
        "name": name,
        "team": team,
        "workload": "batch",
        "runtime": {"image": "ghcr.io/acme/batch-infer:2.0"},
        "model": _model(),
        "storage": {"credentials_secret": "s3-creds"},
        "compute": {"region": "LAS1"},
        "batch": {
            "inputs_uri": "s3://data/prompts/",
            "outputs_uri": "s3://data/completions/",
            "parallelism": 2,
            "timeout_minutes": 30,
            "retries": 1,
        },
        "models_per_gpu": 1,
    }
    spec.update(overrides)
    return spec


class DeploymentFactory(factory.django.DjangoModelFactory):
    """A stored deployment with one revision. The spec is stored as given (not recommended)."""

    class Meta:
        model = Deployment

    team = factory.SubFactory(TeamFactory)
    name = factory.Sequence(lambda n: f"svc-{n}")
    workload = Workload.ONLINE
    target = Target.KNATIVE
    status = Status.RUNNING
    gpu_class = "A100_NVLINK_80GB"
    region = "LAS1"
    gpus_per_replica = 1

    @factory.post_generation
    def revision(obj, create, extracted, **kwargs):
        if not create:
            return
        spec = extracted or online_spec(team=obj.team.slug, name=obj.name)
        rev = Revision.objects.create(deployment=obj, number=1, spec=spec, manifests=[], created_by=obj.created_by)
        obj.current_revision = rev
        # What the quota counts, as the lifecycle stores it (the cost only when the spec can be priced).
        obj.gpus_max = spec_gpus_max(spec)
        obj.save(update_fields=["current_revision", "gpus_max"])
