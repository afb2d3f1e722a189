"""/api/v1/deployments/{id}/runs/: a batch deployment's runs, and starting the next one."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from apibase.schema import ErrorSerializer

from ..selectors import deployment_get_for_user
from ..selectors_detail import deployment_runs
from ..services.lifecycle import deployment_run_again


class RunSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    revision = serializers.IntegerField(help_text="The revision the run executes")
    workflow = serializers.CharField(source="workflow_name", help_text="The Argo Workflow of this run")
    status = serializers.CharField()
    shards_total = serializers.IntegerField()
    shards_done = serializers.IntegerField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    duration_seconds = serializers.FloatField(allow_null=True, help_text="So far, while it runs")
    cost_usd = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    created_at = serializers.DateTimeField()
    created_by = serializers.CharField(source="created_by.username", allow_null=True, default=None)


@extend_schema(tags=["deployments"])
class DeploymentRunsView(APIView):
    @extend_schema(summary="A batch deployment's runs, newest first (kept after Argo removes the Workflow)",
                   responses={200: RunSerializer(many=True)})
    def get(self, request, pk):
        deployment = deployment_get_for_user(request.user, pk)
        return Response(RunSerializer(deployment_runs(deployment), many=True).data)

    @extend_schema(summary="Run again: a new Workflow for the current revision of a finished batch deployment",
                   request=None, responses={201: RunSerializer, 409: OpenApiResponse(
                       ErrorSerializer, description="Not a batch deployment, or a run is still in progress")})
    def post(self, request, pk):
        deployment = deployment_get_for_user(request.user, pk)
        run = deployment_run_again(user=request.user, deployment=deployment)
        created = next(r for r in deployment_runs(deployment, limit=1) if r.pk == run.pk)
        return Response(RunSerializer(created).data, status=status.HTTP_201_CREATED)
