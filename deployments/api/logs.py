"""GET /api/v1/deployments/{id}/logs/: a pod's log as text; `follow=1` streams it (chunked, bounded)."""

from django.http import HttpResponse, StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.views import APIView

import clusters
from apibase.schema import ErrorSerializer
from clusters.logs import FOLLOW_SECONDS, MAX_BYTES, MAX_LINES

from ..selectors import deployment_get_for_user
from ..selectors_logs import (
    MAX_SINCE_SECONDS,
    LogQueryInvalid,
    deployment_log_follow,
    deployment_log_read,
    deployment_pods,
    log_query_parse,
)
from ..selectors_logs import log_source as log_source_pick

TEXT = "text/plain; charset=utf-8"


class ClusterUnavailable(exceptions.APIException):
    status_code = 503
    default_code = "cluster_unavailable"


class JsonErrors(BaseContentNegotiation):
    """Success is text/plain (an HttpResponse the view builds); errors are always the JSON error shape,
    whatever Accept says (a client asking for text/plain must not get 406 instead of its 400 or 404)."""

    def select_parser(self, request, parsers):
        return parsers[0]

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


def _invalid(exc):
    return serializers.ValidationError({field: [message] for field, message in exc.errors})


def _cluster_failure(exc):
    """The cluster's refusal about this log (a container still starting, no previous container) is the
    caller's to fix: 400 with the API server's words; anything else is the cluster being unreachable."""
    if isinstance(exc, clusters.NotFound):
        return exceptions.NotFound(exc.message)
    if exc.permanent and "no cluster configured" not in exc.message:
        return serializers.ValidationError({"pod": [exc.message]})
    return ClusterUnavailable(f"The cluster cannot be read right now: {exc.message}")


@extend_schema(tags=["deployments"])
class DeploymentLogsView(APIView):
    content_negotiation_class = JsonErrors

    @extend_schema(
        summary="A pod's log: the model container of the pod ready the longest unless `pod` and `container` say",
        description=(f"Plain text, at most {MAX_LINES} lines and {MAX_BYTES // 1024} KiB. With `follow=1` the "
                     f"answer is streamed (chunked) as the container writes, for at most {FOLLOW_SECONDS:.0f} s; "
                     "ask again to go on. `X-Pod` and `X-Container` name what was read."),
        parameters=[
            OpenApiParameter("pod", OpenApiTypes.STR, description="One of this deployment's pods (404 otherwise)"),
            OpenApiParameter("container", OpenApiTypes.STR, description="Default: the model container"),
            OpenApiParameter("tail", OpenApiTypes.INT, description=f"The last N lines, 0–{MAX_LINES}"),
            OpenApiParameter("since_seconds", OpenApiTypes.INT,
                             description=f"Only lines of the last N seconds, 1–{MAX_SINCE_SECONDS}"),
            OpenApiParameter("previous", OpenApiTypes.BOOL, description="The previous (crashed) container's log"),
            OpenApiParameter("follow", OpenApiTypes.BOOL, description="Stream new lines as they are written"),
        ],
        responses={
            (200, "text/plain"): OpenApiResponse(OpenApiTypes.STR, description="The log, one line per line"),
            503: OpenApiResponse(ErrorSerializer, description="The cluster cannot be reached"),
        },
    )
    def get(self, request, pk):
        deployment = deployment_get_for_user(request.user, pk)
        try:
            query = log_query_parse(request.query_params)
            pods = deployment_pods(deployment)
            pod, container = log_source_pick(deployment, pods, query)
            if pod is None:
                raise exceptions.NotFound("This deployment has no pods right now.")
            if query.follow:
                chunks = deployment_log_follow(deployment, pod, container, query)
                response = StreamingHttpResponse(chunks, content_type=TEXT)
                response["X-Accel-Buffering"] = "no"  # nginx would hold the chunks back
            else:
                response = HttpResponse(deployment_log_read(deployment, pod, container, query), content_type=TEXT)
        except LogQueryInvalid as exc:
            raise _invalid(exc) from None
        except clusters.ClusterError as exc:
            raise _cluster_failure(exc) from None
        response["Cache-Control"] = "no-store"
        response["X-Pod"], response["X-Container"] = pod["name"], container
        return response
