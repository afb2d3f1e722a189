"""POST /api/v1/deployments/preview/: the dry run, exactly as SPEC.md describes it."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from ..services.preview import deployment_preview
from .serializers import DeploymentSpecSerializer, PreviewInvalidSerializer, PreviewSerializer


class DeploymentPreviewView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=DeploymentSpecSerializer,
        responses={
            200: OpenApiResponse(PreviewSerializer, description="{spec, target, manifests, warnings, errors, cost, checklist}"),
            400: OpenApiResponse(PreviewInvalidSerializer, description="The same body, with `errors` not empty"),
        },
        tags=["deployments"],
        summary="Validate, complete, price and render a spec without storing anything",
    )
    def post(self, request):
        result = deployment_preview(spec=request.data, user=request.user)
        return Response(result, status=status.HTTP_400_BAD_REQUEST if result["errors"] else status.HTTP_200_OK)
