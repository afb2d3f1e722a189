"""API shapes. The spec serializers document SPEC.md for OpenAPI only: validation is specs.spec_validate's job."""

from rest_framework import serializers

from portal.api_schema import ErrorItemSerializer

from ..models import Status, Target, Workload

# --- the v1 spec (SPEC.md), for the schema -------------------------------------------------------------


class RuntimeSerializer(serializers.Serializer):
    image = serializers.CharField(help_text="An image reference with a tag or digest")
    args = serializers.ListField(child=serializers.CharField(), required=False)
    port = serializers.IntegerField(required=False, help_text="Default 8080")
    protocol = serializers.ChoiceField(choices=["http", "grpc"], required=False)
    env = serializers.DictField(child=serializers.CharField(), required=False, help_text="Plain values only")
    secret_env = serializers.DictField(
        child=serializers.CharField(), required=False,
        help_text='NAME -> "<secret name>/<key>", rendered as a secretKeyRef, never as a value',
    )
    timeout_seconds = serializers.IntegerField(required=False, help_text="Request timeout, at most 600")


class ModelSerializer(serializers.Serializer):
    uri = serializers.CharField(help_text="s3://bucket/path or pvc://<claim>/<path>")
    parameters_billions = serializers.FloatField()
    precision = serializers.ChoiceField(choices=["fp32", "fp16", "bf16", "int8", "int4"])
    format = serializers.ChoiceField(choices=["tensorizer", "safetensors", "other"])


class StorageSerializer(serializers.Serializer):
    tier = serializers.ChoiceField(choices=["object", "accelerated-object", "nvme-pvc"], required=False,
                                   help_text="Recommended if left out")
    pvc_size_gi = serializers.IntegerField(required=False, help_text="nvme-pvc only")
    credentials_secret = serializers.CharField(required=False, help_text="Name of a Secret, never the keys")


class ComputeSerializer(serializers.Serializer):
    gpu_class = serializers.CharField(required=False, help_text="A catalog GPU class; recommended if left out")
    gpus_per_replica = serializers.IntegerField(required=False)
    region = serializers.CharField(required=False, help_text="A catalog region; recommended if left out")
    cpu = serializers.FloatField(required=False)
    memory_gi = serializers.IntegerField(required=False)


class ScalingSerializer(serializers.Serializer):
    min_replicas = serializers.IntegerField(required=False, help_text="0 = scale to zero")
    max_replicas = serializers.IntegerField(required=False)
    target_concurrency = serializers.IntegerField(required=False)
    target_utilization_percent = serializers.IntegerField(required=False)
    scale_to_zero_retention = serializers.CharField(required=False, help_text='e.g. "30m"; at most 1h')
    latency_tolerance = serializers.ChoiceField(choices=["strict", "moderate", "relaxed"], required=False)


class BatchingSerializer(serializers.Serializer):
    max_batch_size = serializers.IntegerField()
    max_latency_ms = serializers.IntegerField()


class BatchSerializer(serializers.Serializer):
    inputs_uri = serializers.CharField(required=False)
    outputs_uri = serializers.CharField(required=False)
    parallelism = serializers.IntegerField(required=False)
    timeout_minutes = serializers.IntegerField(required=False)
    retries = serializers.IntegerField(required=False)


class AccessSerializer(serializers.Serializer):
    visibility = serializers.ChoiceField(choices=["public", "cluster-local"], required=False)
    cross_cloud_clients = serializers.BooleanField(required=False)


class DeploymentSpecSerializer(serializers.Serializer):
    """A v1 deployment spec (SPEC.md). Optional fields left out are filled in by the recommender."""

    name = serializers.CharField(help_text="DNS-1123 label, 1..40 characters")
    team = serializers.CharField(help_text="Slug of a team you belong to")
    workload = serializers.ChoiceField(choices=Workload.values)
    target = serializers.ChoiceField(choices=Target.values, required=False,
                                     help_text="online: knative (default) or kserve; batch is always argo")
    runtime = RuntimeSerializer()
    model = ModelSerializer()
    storage = StorageSerializer(required=False)
    compute = ComputeSerializer(required=False)
    scaling = ScalingSerializer(required=False, help_text="online only")
    batching = BatchingSerializer(required=False, help_text="online only")
    batch = BatchSerializer(required=False, help_text="batch only")
    access = AccessSerializer(required=False)
    request_queue = serializers.BooleanField(required=False)
    models_per_gpu = serializers.IntegerField(required=False, help_text="More than 1 is an error (bin_packing)")
    region_preference = serializers.ChoiceField(choices=["best-availability", "closest-to-users"], required=False)


# --- preview ---------------------------------------------------------------------------------------


class CostSerializer(serializers.Serializer):
    currency = serializers.CharField()
    per_hour_min = serializers.FloatField()
    per_hour_max = serializers.FloatField()
    per_month_min = serializers.FloatField()
    per_month_max = serializers.FloatField()
    per_run_max = serializers.FloatField(required=False, help_text="batch only")
    basis = serializers.CharField(required=False)


class ChecklistItemSerializer(serializers.Serializer):
    key = serializers.CharField()
    question = serializers.CharField()
    answer = serializers.CharField()
    status = serializers.ChoiceField(choices=["ok", "warning", "error"])


class ExplanationSerializer(serializers.Serializer):
    field = serializers.CharField()
    value = serializers.JSONField()
    reason = serializers.CharField()


class PreviewSerializer(serializers.Serializer):
    spec = DeploymentSpecSerializer(help_text="The completed spec: what would be stored")
    target = serializers.CharField(allow_null=True)
    manifests = serializers.ListField(child=serializers.DictField(), help_text="The Kubernetes objects")
    warnings = ErrorItemSerializer(many=True)
    errors = ErrorItemSerializer(many=True)
    cost = CostSerializer(allow_null=True)
    cold_start = serializers.DictField(child=serializers.IntegerField(), allow_null=True, required=False)
    checklist = ChecklistItemSerializer(many=True)
    explanations = ExplanationSerializer(many=True)


class PreviewInvalidSerializer(PreviewSerializer):
    spec = serializers.DictField(help_text="The spec as understood so far (it has errors)")


# --- deployments -------------------------------------------------------------------------------------


class DeploymentStatusSerializer(serializers.Serializer):
    phase = serializers.ChoiceField(source="status", choices=Status.values)
    message = serializers.CharField(source="status_message")
    ready_pods = serializers.IntegerField()
    total_pods = serializers.IntegerField()
    scaled_to_zero = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()
    last_synced_at = serializers.DateTimeField(allow_null=True)
    final = serializers.BooleanField(source="is_final", help_text="Nothing changes on its own any more")

    def get_scaled_to_zero(self, obj) -> bool:
        return obj.status == Status.SCALED_TO_ZERO

    def get_url(self, obj) -> str | None:
        return obj.url or None


class SpendSummarySerializer(serializers.Serializer):
    currency = serializers.CharField(default="USD")
    today_usd = serializers.DecimalField(max_digits=14, decimal_places=2, coerce_to_string=False)
    month_usd = serializers.DecimalField(max_digits=14, decimal_places=2, coerce_to_string=False)
    warm_month_usd = serializers.DecimalField(max_digits=14, decimal_places=2, coerce_to_string=False,
                                              help_text="Spent keeping idle pods warm this month")
    price_per_gpu_hour = serializers.DecimalField(max_digits=8, decimal_places=4, coerce_to_string=False,
                                                  allow_null=True)
    burn_rate_usd_per_hour = serializers.DecimalField(max_digits=14, decimal_places=2, coerce_to_string=False)


class DeploymentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    team = serializers.CharField(source="team.slug")
    workload = serializers.ChoiceField(choices=Workload.values)
    target = serializers.ChoiceField(choices=Target.values)
    status = DeploymentStatusSerializer(source="*")
    revision = serializers.IntegerField(source="current_revision.number", allow_null=True, default=None)
    applied_revision = serializers.IntegerField(allow_null=True)
    gpu_class = serializers.CharField()
    region = serializers.CharField()
    gpus_per_replica = serializers.IntegerField()
    approval_reason = serializers.CharField(help_text="Why it waits for platform staff (over quota or budget)")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class DeploymentDetailSerializer(DeploymentSerializer):
    spec = DeploymentSpecSerializer(source="current_revision.spec", allow_null=True, default=None)
    spend = serializers.SerializerMethodField()

    def get_spend(self, obj) -> SpendSummarySerializer:
        spend = self.context.get("spend")
        return SpendSummarySerializer(spend).data if spend is not None else None


class RevisionSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    created_by = serializers.CharField(source="created_by.username", allow_null=True, default=None)
    note = serializers.CharField()
    current = serializers.SerializerMethodField()
    spec = DeploymentSpecSerializer()

    def get_current(self, obj) -> bool:
        return obj.pk == self.context["deployment"].current_revision_id


class RollbackSerializer(serializers.Serializer):
    revision = serializers.IntegerField(min_value=1, help_text="The revision number to go back to")


class ManifestsSerializer(serializers.Serializer):
    revision = serializers.IntegerField()
    manifests = serializers.ListField(child=serializers.DictField(), help_text="The Kubernetes objects, in apply order")


# --- spend -------------------------------------------------------------------------------------------

MONEY = {"max_digits": 14, "decimal_places": 2, "coerce_to_string": False}
HOURS = {"max_digits": 14, "decimal_places": 6, "coerce_to_string": False}


class DaySpendDeploymentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    cost_usd = serializers.DecimalField(**MONEY)
    gpu_hours = serializers.DecimalField(**HOURS)


class DaySpendSerializer(serializers.Serializer):
    day = serializers.DateField()
    cost_usd = serializers.DecimalField(**MONEY)
    gpu_hours = serializers.DecimalField(**HOURS)
    warm_cost_usd = serializers.DecimalField(**MONEY)
    deployments = DaySpendDeploymentSerializer(many=True)


class DeploymentSpendSerializer(DaySpendDeploymentSerializer):
    warm_cost_usd = serializers.DecimalField(**MONEY)


class TeamSpendSerializer(serializers.Serializer):
    team = serializers.CharField()
    currency = serializers.CharField()
    total_usd = serializers.DecimalField(**MONEY)
    days = DaySpendSerializer(many=True)
    deployments = DeploymentSpendSerializer(many=True)

    def get_fields(self):
        # `from` is a Python keyword: declare the date range fields here.
        fields = super().get_fields()
        fields["from"] = serializers.DateField()
        fields["to"] = serializers.DateField()
        return fields


class SpendQuerySerializer(serializers.Serializer):
    to = serializers.DateField(required=False, help_text="Last day, inclusive (YYYY-MM-DD); default today")

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = serializers.DateField(required=False,
                                               help_text="First day (YYYY-MM-DD); default 30 days before `to`")
        return fields
