"""GET /api/v1/deployments/{id}/metrics/?range=1h|1d|1w: request metrics read from Prometheus."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from ..selectors import deployment_get_for_user
from ..selectors_metrics import DEFAULT_RANGE, RANGES, deployment_request_metrics


class MetricsQuerySerializer(serializers.Serializer):
    range = serializers.ChoiceField(choices=list(RANGES), default=DEFAULT_RANGE, required=False)


class LatencyVerdictSerializer(serializers.Serializer):
    tolerance = serializers.CharField()
    tail_ratio_limit = serializers.FloatField(help_text="Largest p95 / p50 the tolerance accepts")
    tail_ratio = serializers.FloatField(allow_null=True)
    target_utilization_percent = serializers.IntegerField(allow_null=True)
    meets = serializers.BooleanField(allow_null=True, help_text="null: no requests to judge by")
    summary = serializers.CharField()


class DeploymentMetricsSerializer(serializers.Serializer):
    enabled = serializers.BooleanField(help_text="False when the portal has no PROMETHEUS_URL")
    message = serializers.CharField(help_text="Why there are no series (disabled, Prometheus unreachable)")
    range = serializers.CharField()
    step_seconds = serializers.IntegerField()
    timestamps = serializers.ListField(child=serializers.FloatField(), help_text="Unix seconds, one per point")
    series = serializers.DictField(child=serializers.ListField(child=serializers.FloatField(allow_null=True)),
                                   help_text="requests_per_second, error_ratio, latency_p50/p95/p99_seconds, "
                                             "concurrency_per_replica, gpu_utilization_percent, gpu_memory_used_mib")
    current = serializers.DictField(child=serializers.FloatField(allow_null=True),
                                    help_text="The same keys over the last minute")
    latency = LatencyVerdictSerializer(allow_null=True)
    cold_starts = serializers.IntegerField(help_text="Returns from zero in the range (Gantry's status history)")


@extend_schema(tags=["deployments"])
class DeploymentMetricsView(APIView):
    @extend_schema(summary="Request rate, latency percentiles, errors, concurrency and GPU use, from Prometheus",
                   parameters=[OpenApiParameter("range", OpenApiTypes.STR, enum=list(RANGES),
                                                description="The last hour, day or week (default 1h)")],
                   responses={200: DeploymentMetricsSerializer})
    def get(self, request, pk):
        deployment = deployment_get_for_user(request.user, pk)
        query = MetricsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = deployment_request_metrics(deployment, range_key=query.validated_data["range"])
        return Response(DeploymentMetricsSerializer(data).data)
