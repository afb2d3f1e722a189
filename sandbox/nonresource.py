"""Answers outside the resource paths: discovery, OpenAPI, /version and health, and the
authorization reviews `kubectl auth can-i` posts (the sandbox authorizes everything, like a
cluster running with --authorization-mode=AlwaysAllow).
"""

import asyncio
import json

import aiohttp.web

from . import discovery, openapi
from .errors import ApiError
from .server_info import HEALTH_PATHS, VERSION_INFO


def _json(obj, status=200):
    return aiohttp.web.json_response(obj, status=status)


async def nonresource_answer(request):
    """The response for a non-resource path, or None when the path is a resource path (or unknown)."""
    path = request.path.rstrip("/") or "/"
    if path == "/version":
        return _json(dict(VERSION_INFO))
    if path in HEALTH_PATHS:
        return aiohttp.web.Response(text="ok", content_type="text/plain")
    if path == "/api":
        return _json(discovery.api_versions(request.host))
    if path == "/api/v1":
        return _json(discovery.api_resource_list("", "v1"))
    if path == "/apis":
        return _json(discovery.api_group_list())
    parts = path.split("/")
    if parts[1] == "apis" and len(parts) in (3, 4):
        doc = discovery.api_group(parts[2]) if len(parts) == 3 else discovery.api_resource_list(parts[2], parts[3])
        return _json(doc) if doc else None
    if path.startswith("/openapi/"):
        return await _openapi(request, path)
    return None


async def _openapi(request, path):
    loop = asyncio.get_running_loop()
    if path == "/openapi/v3":
        return _json(await loop.run_in_executor(None, openapi.v3_index))
    if path.startswith("/openapi/v3/"):
        body = await loop.run_in_executor(None, openapi.document_for_path, path.removeprefix("/openapi/v3/"))
        return None if body is None else aiohttp.web.Response(body=body, content_type="application/json")
    if path == "/openapi/v2":
        accept = request.headers.get("Accept", "")
        # The sandbox has no protobuf encoder: a client that accepts only protobuf (client-go's
        # OpenAPISchema) is told so with 406 NotAcceptable, as kube-apiserver answers a media type
        # it cannot produce. kubectl v1.32 reads v3 and only falls back to v2.
        if accept and "json" not in accept and "*/*" not in accept:
            error = ApiError(406, "NotAcceptable", "only the following media types are accepted: application/json")
            return _json(error.status(), 406)
        body = await loop.run_in_executor(None, openapi.v2_document_bytes)
        return aiohttp.web.Response(body=body, content_type="application/json")
    return None


def review_answer(rt, body):
    """SelfSubjectAccessReview / SelfSubjectRulesReview: everything is allowed in the sandbox.

    Response shape: k8s.io/api authorization/v1 types.go (status.allowed, status.reason;
    status.resourceRules for rules reviews), 201 Created as for any create.
    """
    review = json.loads(body) if body else {}
    review.update(apiVersion=rt.api_version, kind=rt.kind)
    review.setdefault("metadata", {})
    if rt.kind == "SelfSubjectAccessReview":
        review["status"] = {"allowed": True, "reason": "the sandbox authorizes every request"}
    else:
        review["status"] = {"resourceRules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}],
                            "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}], "incomplete": False}
    return _json(review, 201)
