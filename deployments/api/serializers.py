"""API shapes. The spec's own serializers are built from specs/schema.py in spec_serializers.py."""

from rest_framework import serializers

from apibase.schema import ErrorItemSerializer
from specs.vocabulary import Status, Target, Workload

from .spec_serializers import DeploymentSpecSerializer

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
    pushed_at = serializers.DateTimeField(allow_null=True, help_text="When the first push of this revision began")
    ready_at = serializers.DateTimeField(allow_null=True, help_text="When the deployment first ran it ready")
    time_to_ready_seconds = serializers.FloatField(source="ready_seconds", allow_null=True,
                                                   help_text="ready_at - pushed_at; null until both are known")
    cold_start = serializers.SerializerMethodField(help_text="The estimate to compare with (online only)")
    spec = DeploymentSpecSerializer()

    def get_current(self, obj) -> bool:
        return obj.pk == self.context["deployment"].current_revision_id

    def get_cold_start(self, obj) -> dict[str, int] | None:
        low_high = getattr(obj, "cold_start", None)
        return {"min_seconds": low_high[0], "max_seconds": low_high[1]} if low_high else None


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
