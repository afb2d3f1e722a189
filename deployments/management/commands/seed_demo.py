"""Create the demo team and users for `make run` (idempotent)."""

import os
from decimal import Decimal

import yaml
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from catalog.models import Region
from clusters.client import default_cluster_configured
from clusters.models import Cluster
from deployments.models import Deployment
from deployments.services.lifecycle import deployment_create
from specs.vocabulary import Status
from teams.models import Membership, Role, Team

DEMO_USER, DEMO_PASSWORD = "demo", "gantry-demo"
STAFF_USER, STAFF_PASSWORD = "admin", "gantry-admin"
# Room for the demo deployments (up to 15 GPUs, about $3,500 a month at most) and the README's walk-through
# on top (llama-chat at up to 4 GPUs, a Python example at 2): nothing there waits for approval. An older
# demo database had 16 GPUs and $5,000, so its PATCH ended in pending_approval; seeding raises it.
DEMO_GPU_QUOTA, DEMO_BUDGET_USD = 32, Decimal(10000)


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


# `make run`'s second sandbox cluster (--second-cluster) serves this region, with one demo deployment on it.
SECOND_CLUSTER, SECOND_REGION = "sandbox-b", "ORD1"
SECOND_CLUSTER_SPEC = {
    "name": "translate", "workload": "online", "target": "knative", "compute": {"region": SECOND_REGION},
    "runtime": {"image": "ghcr.io/acme/translator:1.2"},
    "model": {"uri": "s3://models/nllb-1.3b/model.tensors", "parameters_billions": 1.3,
              "precision": "fp16", "format": "tensorizer"},
    "scaling": {"min_replicas": 1, "max_replicas": 2, "latency_tolerance": "moderate"}}


# The cluster name in every kubeconfig the sandbox writes (sandbox/harness.py kubeconfig_write, and the demo
# overlay's k8s/overlays/demo/kubeconfig): the demo's deployments go to no other cluster.
SANDBOX_CLUSTER = "gantry-sandbox"


def kubeconfig_cluster(path, context=""):
    """The name of the cluster a kubeconfig's context (its current-context when empty) points at, or None."""
    try:
        with open(path, encoding="utf-8") as fh:
            config = yaml.safe_load(fh) or {}
        context = context or config.get("current-context")
        [entry] = [c for c in config.get("contexts") or [] if c.get("name") == context]
        return entry["context"]["cluster"]
    except (OSError, yaml.YAMLError, ValueError, KeyError, TypeError, AttributeError):
        return None


def sandbox_refusal(what, path, context=""):
    """Why the demo must not deploy through this kubeconfig, or None. A file not written yet passes: `make run`
    seeds before its sandboxes start and write theirs."""
    name = kubeconfig_cluster(path, context) if os.path.exists(path) else SANDBOX_CLUSTER
    return None if name == SANDBOX_CLUSTER else f"{what} {path} names cluster {name!r}"


class Command(BaseCommand):
    help = "Create a demo team, a demo user (deployer/owner) and a platform staff user."

    def add_arguments(self, parser):
        parser.add_argument("--no-deployments", dest="deployments", action="store_false",
                            help="only the team and users, no demo deployments")
        parser.add_argument("--second-cluster", metavar="KUBECONFIG", default="",
                            help=f"a Cluster record {SECOND_CLUSTER!r} serving {SECOND_REGION} through this "
                                 f"kubeconfig (made absolute), with a demo deployment there")

    def _second_cluster(self, kubeconfig):
        cluster, _ = Cluster.objects.update_or_create(
            name=SECOND_CLUSTER, defaults={"connection": Cluster.Connection.KUBECONFIG,
                                           "kubeconfig_path": os.path.abspath(kubeconfig), "context": "",
                                           "enabled": True})
        cluster.regions.set([Region.objects.get(code=SECOND_REGION)])
        self.stdout.write(f"  cluster {cluster.name}: {SECOND_REGION} via {cluster.kubeconfig_path}")

    def _deployments(self, user, team, specs):
        """Three demo services and a batch run (and one on the second cluster), created through the same
        service as the wizard."""
        live = set(Deployment.objects.filter(team=team).exclude(status=Status.DELETED).values_list("name", flat=True))
        for spec in specs:
            if spec["name"] not in live:
                deployment = deployment_create(user=user, spec={**spec, "team": team.slug})
                self.stdout.write(f"  demo deployment {deployment.name}: {deployment.status}")

    def _room(self, team):
        """At least the demo's quota and budget; more that staff gave the team stays."""
        quota, budget = max(team.gpu_quota, DEMO_GPU_QUOTA), max(team.monthly_budget_usd, DEMO_BUDGET_USD)
        if (quota, budget) != (team.gpu_quota, team.monthly_budget_usd):
            Team.objects.filter(pk=team.pk).update(gpu_quota=quota, monthly_budget_usd=budget)
            team.gpu_quota, team.monthly_budget_usd = quota, budget
            self.stdout.write(f"  team {team.slug}: quota raised to {quota} GPUs and ${budget:,.0f} a month")

    def _sandboxes_only(self, second_cluster):
        """The demo's deployments reach the default cluster, the --second-cluster and the enabled Cluster
        records: each must be a sandbox, never a real cluster whose kubeconfig happens to be mounted."""
        refusals = [sandbox_refusal("KUBECONFIG", settings.KUBECONFIG, settings.KUBE_CONTEXT)
                    if settings.KUBECONFIG else
                    default_cluster_configured() and "KUBECONFIG is empty: the pod's service account's cluster",
                    second_cluster and sandbox_refusal("--second-cluster", second_cluster)]
        for record in Cluster.objects.filter(enabled=True).exclude(name=SECOND_CLUSTER if second_cluster else ""):
            refusals.append(f"cluster record {record.name} is in-cluster" if record.ref().in_cluster else
                            sandbox_refusal(f"cluster record {record.name}:", record.kubeconfig_path, record.context))
        if any(refusals):
            raise CommandError(
                f"the demo deploys only to a sandbox (cluster {SANDBOX_CLUSTER!r}): "
                f"{'; '.join(r for r in refusals if r)}. Point KUBECONFIG at the kubeconfig `python -m sandbox` "
                "writes, or seed with --no-deployments.")

    @transaction.atomic
    def handle(self, *args, **options):
        if options["deployments"]:
            self._sandboxes_only(options["second_cluster"])
        User = get_user_model()
        team, _ = Team.objects.get_or_create(
            slug="demo", defaults={"name": "Demo team", "monthly_budget_usd": DEMO_BUDGET_USD,
                                   "gpu_quota": DEMO_GPU_QUOTA}
        )
        self._room(team)
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
        specs = list(DEMO_SPECS)
        if options["second_cluster"]:
            self._second_cluster(options["second_cluster"])
            specs.append(SECOND_CLUSTER_SPEC)
        if options["deployments"]:
            self._deployments(user, team, specs)
        self.stdout.write(self.style.SUCCESS(
            f"Demo login: {DEMO_USER} / {DEMO_PASSWORD}   (platform staff: {STAFF_USER} / {STAFF_PASSWORD})"
        ))
