"""/api/v1/deployments/: thin views over the lifecycle services and the scoped selectors.

Scoping lives in DeploymentScopeMixin only: every deployment comes from the
selectors, so outsiders get 404 and staff see everything. Permission to change
a deployment is the services' decision (PermissionDenied -> 403), exactly as
for the browser.
"""

from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

from apibase.renderers import JSONRenderer
from apibase.schema import ErrorSerializer
from specs.vocabulary import Status
from spend.selectors import deployment_spend_summary
from teams.slugs import TEAM_SLUG_HELP, is_team_slug

from ..models import IdempotencyKey
from ..selectors import deployment_get_for_user
from ..selectors_detail import current_run, deployment_revisions
from ..selectors_list import deployments_listed
from ..services.lifecycle import deployment_create_once, deployment_rollback, deployment_teardown, deployment_update
from ..services.manifests import revision_manifests
from .detail import deployment_detail_data
from .listing import ListedRows, deployment_list_items
from .renderers import YamlStreamRenderer
from .serializers import (
    DeploymentDetailSerializer,
    DeploymentSerializer,
    DeploymentSpecSerializer,
    ManifestsSerializer,
    RevisionSerializer,
    RollbackSerializer,
)

ORDERINGS = ("name", "created_at", "updated_at", "status", "team")
CONFLICT = OpenApiResponse(ErrorSerializer, description="The deployment changed meanwhile, or cannot change now")
IDEMPOTENCY_KEY_MAX = IdempotencyKey._meta.get_field("key").max_length


def _idempotency_key(request):
    """The Idempotency-Key header, or None without one. A header sent empty (a script whose key came out
    empty) is refused: the caller meant retries to be safe, and ignoring it would let one create a second
    deployment."""
    if "Idempotency-Key" not in request.headers:
        return None
    key = request.headers["Idempotency-Key"].strip()
    if not key:
        raise serializers.ValidationError(
            {"Idempotency-Key": ["The Idempotency-Key header is empty: send a unique string, e.g. a UUID from "
                                 "`python3 -c 'import uuid; print(uuid.uuid4())'`, or leave the header out."]},
            code="blank")
    if len(key) > IDEMPOTENCY_KEY_MAX:
        raise serializers.ValidationError({"Idempotency-Key": [f"Use at most {IDEMPOTENCY_KEY_MAX} characters."]})
    return key


class DeploymentPagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 200


def _spec_merge(current, patch):
    """JSON merge patch (RFC 7396): objects merge key by key, null removes, anything else replaces."""
    if not isinstance(patch, dict):
        return patch
    merged = dict(current) if isinstance(current, dict) else {}
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = _spec_merge(merged.get(key), value)
    return merged


class DeploymentScopeMixin:
    """The one place that decides which deployments a caller may see."""

    def get_queryset(self):
        return deployments_listed(self.request.user)

    def get_object(self):
        return deployment_get_for_user(self.request.user, self.kwargs["pk"])


LIST_PARAMETERS = [
    OpenApiParameter("team", str, description="Only this team's deployments (team slug)"),
    OpenApiParameter("status", str, enum=Status.values, description="Only deployments in this status"),
    OpenApiParameter("ordering", str, enum=[p + f for f in ORDERINGS for p in ("", "-")],
                     description="Sort order; `-` for descending. Default `team`, `name`"),
    OpenApiParameter("page_size", int, description="Results per page (at most 200, default 50)"),
]


@extend_schema_view(
    list=extend_schema(summary="Your teams' deployments", parameters=LIST_PARAMETERS),
    retrieve=extend_schema(summary="One deployment: spec, status and spend",
                           responses={200: DeploymentDetailSerializer}),
)
@extend_schema(tags=["deployments"])
class DeploymentViewSet(DeploymentScopeMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = DeploymentSerializer
    pagination_class = DeploymentPagination
    lookup_value_regex = r"[0-9]+"

    def _detail(self, deployment, status_code=status.HTTP_200_OK, headers=None, created=False):
        if not created:  # just created by this request, it is as fresh as it gets
            deployment = deployment_get_for_user(self.request.user, deployment.pk)  # fresh status, same scope
        spend = deployment_spend_summary(deployment=deployment, created=created)
        return Response(deployment_detail_data(deployment, spend), status=status_code, headers=headers)

    def filter_queryset(self, queryset):
        params = self.request.query_params
        if team := params.get("team"):
            if not is_team_slug(team):
                raise serializers.ValidationError({"team": [f"`team` is a team slug. {TEAM_SLUG_HELP}"]})
            queryset = queryset.filter(team__slug=team)
        if state := params.get("status"):
            if state not in Status.values:
                raise serializers.ValidationError(
                    {"status": [f"Unknown status `{state}`; use one of: {', '.join(Status.values)}."]})
            queryset = queryset.filter(status=state)
        if ordering := params.get("ordering"):
            if ordering.lstrip("-") not in ORDERINGS:
                raise serializers.ValidationError(
                    {"ordering": [f"Order by one of: {', '.join(ORDERINGS)} (prefix `-` for descending)."]})
            field = ordering.replace("team", "team__slug")
            queryset = queryset.order_by(field, "pk")
        else:
            queryset = queryset.order_by("team__slug", "name", "pk")
        return queryset

    def list(self, request):
        # The response of DeploymentSerializer(many=True) (the schema's), built from plain rows: listing.py.
        page = self.paginate_queryset(ListedRows(self.filter_queryset(self.get_queryset())))
        return self.get_paginated_response(deployment_list_items(page))

    def retrieve(self, request, pk=None):
        return self._detail(self.get_object())

    @extend_schema(
        summary="Validate, store and queue a deployment",
        description="Over-quota requests are stored as `pending_approval` until platform staff decide. "
        "Send an `Idempotency-Key` header to make retries safe: the same key and body within 24 hours return the "
        "first result (200); the same key with another body is a 422 `idempotency_key_reused`.",
        request=DeploymentSpecSerializer,
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER,
                                     description="Any unique string (e.g. a UUID), at most 200 characters; "
                                                 "sent empty it is a 400")],
        responses={201: DeploymentDetailSerializer,
                   200: OpenApiResponse(DeploymentDetailSerializer, description="A retry with a known key"),
                   422: OpenApiResponse(ErrorSerializer, description="The key was used for another body")},
    )
    def create(self, request):
        key = _idempotency_key(request)
        deployment, created = deployment_create_once(user=request.user, spec=request.data, idempotency_key=key)
        if not created:
            return self._detail(deployment)
        location = reverse("api-deployment-detail", args=[deployment.pk])
        return self._detail(deployment, status.HTTP_201_CREATED, headers={"Location": location}, created=True)

    @extend_schema(
        summary="Change the spec: a new revision, pushed again",
        description="The body is a JSON merge patch of the current spec (RFC 7396): objects merge, `null` "
        "removes a field so that the recommender fills it in again. `name` and `team` never change.",
        request=DeploymentSpecSerializer,
        responses={200: DeploymentDetailSerializer, 409: CONFLICT},
    )
    def partial_update(self, request, pk=None):
        deployment = self.get_object()
        if not isinstance(request.data, dict):
            raise serializers.ValidationError(["Send a JSON object: a merge patch of the spec."])
        current = deployment.current_revision.spec if deployment.current_revision else {}
        deployment_update(user=request.user, deployment=deployment, spec=_spec_merge(current, request.data))
        return self._detail(deployment)

    @extend_schema(summary="Tear down: 202, status goes to `deleting`, then `deleted`",
                   request=None, responses={202: DeploymentDetailSerializer})
    def destroy(self, request, pk=None):
        deployment = deployment_teardown(user=request.user, deployment=self.get_object())
        return self._detail(deployment, status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary="The rendered Kubernetes objects of the current revision",
        parameters=[OpenApiParameter("format", str, enum=["json", "yaml"],
                                     description="`yaml` for a multi-document YAML stream (application/yaml)")],
        responses={(200, "application/json"): ManifestsSerializer, (200, "application/yaml"): OpenApiResponse(
            {"type": "array", "items": {"type": "object"}},
            description="A multi-document YAML stream: one Kubernetes object per document (read with a loader of "
                        "all documents, such as PyYAML's safe_load_all: the list of them)")},
    )
    @action(detail=True, methods=["get"], renderer_classes=[JSONRenderer, YamlStreamRenderer])
    def manifests(self, request, pk=None):
        deployment = self.get_object()
        revision = deployment.current_revision
        objects = revision_manifests(deployment, revision, run=current_run(deployment)) if revision else []
        return Response({"revision": revision.number if revision else 0, "manifests": objects})

    @extend_schema(summary="Revision history, newest first", responses={200: RevisionSerializer(many=True)})
    @action(detail=True, methods=["get"], pagination_class=None)
    def revisions(self, request, pk=None):
        deployment = self.get_object()
        revisions = deployment_revisions(deployment)  # the page's selector: time to ready beside the estimate
        return Response(RevisionSerializer(revisions, many=True, context={"deployment": deployment}).data)

    @extend_schema(summary="Go back to an earlier revision (a new revision with its spec, pushed again)",
                   request=RollbackSerializer,
                   responses={200: DeploymentDetailSerializer, 409: CONFLICT})
    @action(detail=True, methods=["post"])
    def rollback(self, request, pk=None):
        deployment = self.get_object()
        body = RollbackSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        deployment_rollback(user=request.user, deployment=deployment, revision_number=body.validated_data["revision"])
        return self._detail(deployment)
