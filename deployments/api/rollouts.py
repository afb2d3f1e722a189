"""/api/v1/deployments/{id}/rollout/: the canary of an online deployment (SPEC v1.1).

GET shows the split; POST takes one step: `{"canary_percent": 20}` (with `"spec"`, a merge patch, to start
the canary with that change; without, to set the share of the current revision), or
`{"action": "promote" | "rollback"}`. The same services as the deployment page.
"""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from apibase.schema import ErrorSerializer

from ..errors import RolloutConflict
from ..selectors import deployment_get_for_user
from ..selectors_traffic import deployment_traffic
from ..services.rollouts import rollout_promote, rollout_rollback, rollout_set, rollout_start
from .views import _spec_merge

CONFLICT = OpenApiResponse(ErrorSerializer, description="A batch deployment, no canary in progress, no previous "
                           "ready revision, or the deployment changed meanwhile; `field` says which")


class RolloutStepSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=["promote", "rollback"], required=False,
                                     help_text="`promote`: all traffic to the canary; `rollback`: all back to the "
                                     "stable revision")
    canary_percent = serializers.IntegerField(required=False, help_text="1-99: the new revision's share")
    spec = serializers.JSONField(required=False, help_text="A merge patch of the spec: start the canary with "
                                 "this change (a new revision)")

    def validate(self, attrs):
        if ("action" in attrs) == ("canary_percent" in attrs):
            raise serializers.ValidationError({"action": ["Send either `action` or `canary_percent`."]})
        if "spec" in attrs and "canary_percent" not in attrs:
            raise serializers.ValidationError({"spec": ["A change with a canary needs `canary_percent`."]})
        if "spec" in attrs and not isinstance(attrs["spec"], dict):
            raise serializers.ValidationError({"spec": ["Send a JSON object: a merge patch of the spec."]})
        return attrs


class TrafficRowSerializer(serializers.Serializer):
    revision = serializers.IntegerField(allow_null=True, help_text="Gantry's revision number (null: unknown)")
    name = serializers.CharField(help_text="The Knative Revision name, when known")
    role = serializers.ChoiceField(choices=["stable", "canary", "all", "other"])
    percent = serializers.IntegerField(help_text="The share Gantry asked for")
    observed = serializers.IntegerField(allow_null=True, help_text="The share the cluster's Route resolved (live)")
    ready = serializers.IntegerField(allow_null=True, help_text="Ready pods of this revision (live)")
    total = serializers.IntegerField(allow_null=True)


class RolloutSerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=["none", "canary", "rolled_back"])
    canary_percent = serializers.IntegerField(allow_null=True)
    stable = serializers.IntegerField(allow_null=True)
    candidate = serializers.IntegerField(allow_null=True)
    rows = TrafficRowSerializer(many=True)
    live_error = serializers.CharField()


def _body(deployment, *, live=False):
    return RolloutSerializer(deployment_traffic(deployment, live=live)).data


@extend_schema(tags=["deployments"])
class DeploymentRolloutView(APIView):
    def _deployment(self, pk):
        return deployment_get_for_user(self.request.user, pk)

    @extend_schema(summary="The traffic split of an online deployment",
                   parameters=[OpenApiParameter("live", bool, description="Also read the cluster: the resolved "
                                                "split and each revision's ready pods")],
                   responses={200: RolloutSerializer, 409: CONFLICT})
    def get(self, request, pk):
        deployment = self._deployment(pk)
        if deployment_traffic(deployment) is None:
            raise RolloutConflict("A batch deployment has no traffic split.", field="workload")
        return Response(_body(deployment, live=request.query_params.get("live") in ("1", "true")))

    @extend_schema(summary="A canary step: set the share, promote or roll back",
                   request=RolloutStepSerializer, responses={202: RolloutSerializer, 409: CONFLICT})
    def post(self, request, pk):
        deployment = self._deployment(pk)
        body = RolloutStepSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        step = body.validated_data
        if step.get("action") == "promote":
            rollout_promote(user=request.user, deployment=deployment)
        elif step.get("action") == "rollback":
            rollout_rollback(user=request.user, deployment=deployment)
        elif "spec" in step:
            current = deployment.current_revision.spec if deployment.current_revision else {}
            rollout_start(user=request.user, deployment=deployment, spec=_spec_merge(current, step["spec"]),
                          canary_percent=step["canary_percent"])
        else:
            rollout_set(user=request.user, deployment=deployment, canary_percent=step["canary_percent"])
        return Response(_body(self._deployment(pk)), status=status.HTTP_202_ACCEPTED)
