"""Create the demo team and users for `make run` (idempotent)."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from deployments.models import Deployment
from deployments.services.lifecycle import deployment_create
from specs.vocabulary import Status
from teams.models import Membership, Role, Team

DEMO_USER, DEMO_PASSWORD = "demo", "gantry-demo"
STAFF_USER, STAFF_PASSWORD = "admin", "gantry-admin"


MODEL = {"uri": "s3://models/llama-3-8b/model.tensors", "parameters_billions": 8.0,
         "precision": "bf16", "format": "tensorizer"}
# The sandbox's traffic for these is set in the Procfile: chat rises and falls, embeddings
# gets bursts and scales to zero in between.
DEMO_SPECS = [
    {"name": "chat", "workload": "online", "target": "knative",
     "runtime": {"image": "ghcr.io/acme/llm-server:1.4", "secret_env": {"HF_TOKEN": "hf-token/token"}},
     "model": MODEL, "storage": {"credentials_secret": "s3-creds"},
     "scaling": {"min_replicas": 1, "max_replicas": 4, "latency_tolerance": "moderate"}},
    {"name": "embeddings", "workload": "online", "target": "knative",
     "runtime": {"image": "ghcr.io/acme/embedder:0.9"},
     "model": {"uri": "s3://models/e5-small/model.tensors", "parameters_billions": 0.3,
               "precision": "fp16", "format": "tensorizer"},
     "scaling": {"min_replicas": 0, "max_replicas": 2, "scale_to_zero_retention": "1m",
                 "latency_tolerance": "relaxed"}},
    {"name": "sentiment", "workload": "online", "target": "kserve",
     "runtime": {"image": "ghcr.io/acme/sentiment:2.1"},
     "model": {"uri": "s3://models/roberta-large/model.safetensors", "parameters_billions": 0.35,
               "precision": "fp16", "format": "safetensors"},
     "scaling": {"min_replicas": 1, "max_replicas": 3, "latency_tolerance": "strict"}},
    {"name": "nightly-batch", "workload": "batch",
     "runtime": {"image": "ghcr.io/acme/batch-infer:2.0"}, "model": MODEL,
     "storage": {"credentials_secret": "s3-creds"},
     "batch": {"inputs_uri": "s3://data/prompts/", "outputs_uri": "s3://data/completions/",
               "parallelism": 4, "timeout_minutes": 60, "retries": 1}},
]


class Command(BaseCommand):
    help = "Create a demo team, a demo user (deployer/owner) and a platform staff user."

    def add_arguments(self, parser):
        parser.add_argument("--no-deployments", dest="deployments", action="store_false",
                            help="only the team and users, no demo deployments")

    def _deployments(self, user, team):
        """Three demo services and a batch run, created through the same service as the wizard."""
        live = set(Deployment.objects.filter(team=team).exclude(status=Status.DELETED).values_list("name", flat=True))
        for spec in DEMO_SPECS:
            if spec["name"] not in live:
                deployment = deployment_create(user=user, spec={**spec, "team": team.slug})
                self.stdout.write(f"  demo deployment {deployment.name}: {deployment.status}")

    @transaction.atomic
    def handle(self, *args, **options):
        User = get_user_model()
        team, _ = Team.objects.get_or_create(
            slug="demo", defaults={"name": "Demo team", "monthly_budget_usd": 5000, "gpu_quota": 16}
        )
        user, created = User.objects.get_or_create(username=DEMO_USER, defaults={"email": "demo@example.com"})
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        Membership.objects.get_or_create(user=user, team=team, defaults={"role": Role.OWNER})
        staff, created = User.objects.get_or_create(
            username=STAFF_USER, defaults={"email": "admin@example.com", "is_staff": True, "is_superuser": True}
        )
        if created:
            staff.set_password(STAFF_PASSWORD)
            staff.save()
        if options["deployments"]:
            self._deployments(user, team)
        self.stdout.write(self.style.SUCCESS(
            f"Demo login: {DEMO_USER} / {DEMO_PASSWORD}   (platform staff: {STAFF_USER} / {STAFF_PASSWORD})"
        ))
