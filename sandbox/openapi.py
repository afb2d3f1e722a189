"""OpenAPI v3 documents (/openapi/v3 and one per group/version) and a v2 JSON document.

kubectl v1.32 reads v3 only: `explain` finds a kind by the x-kubernetes-group-version-kind of a
component schema, and apply's validation asks whether the PATCH operation of the kind takes the
`fieldValidation` query parameter (k8s.io/cli-runtime v0.32 pkg/resource/query_param_verifier_v3.go)
so the server validates instead of the client. Document shapes follow kube-apiserver v1.31
(k8s.io/kube-openapi pkg/handler3: the index lists "serverRelativeURL" per "api/v1" or
"apis/<group>/<version>"); custom resources get their CRD's openAPIV3Schema with metadata pointing
at ObjectMeta, named with the reversed group ("dev.knative.serving.v1.Service") as the apiextensions
builder does.
"""

import copy
import functools
import hashlib
import json

from . import crdschema
from .openapi_builtin import META_PREFIX, builtin_components, object_meta_components
from .resources import RESOURCE_TYPES, group_versions
from .server_info import VERSION_INFO

_REF = "#/components/schemas/"
_PATCH_TYPES = ("application/json-patch+json", "application/merge-patch+json",
                "application/strategic-merge-patch+json", "application/apply-patch+yaml")
_QUERY = {name: {"name": name, "in": "query", "description": text, "schema": {"type": "string", "uniqueItems": True}}
          for name, text in [("dryRun", "When present, indicates that modifications should not be persisted."),
                             ("fieldManager", "fieldManager is a name associated with the actor making the change."),
                             ("fieldValidation", "fieldValidation instructs the server on how to handle objects in "
                              "the request containing unknown or duplicate fields: Ignore, Warn or Strict.")]}


def _reverse_group(group):
    return ".".join(reversed(group.split(".")))


def _crd_component(rt):
    entry = crdschema.crd_version(rt.api_version, rt.kind)
    schema = copy.deepcopy(entry["schema"]["openAPIV3Schema"])
    props = schema.setdefault("properties", {})
    props["metadata"] = {"allOf": [{"$ref": _REF + META_PREFIX + "ObjectMeta"}], "default": {},
                         "description": "Standard object's metadata. More info: https://git.k8s.io/community/"
                                        "contributors/devel/sig-architecture/api-conventions.md#metadata"}
    props.setdefault("apiVersion", {"type": "string"})
    props.setdefault("kind", {"type": "string"})
    schema["type"] = "object"
    schema["x-kubernetes-group-version-kind"] = [{"group": rt.group, "kind": rt.kind, "version": rt.version}]
    return f"{_reverse_group(rt.group)}.{rt.version}.{rt.kind}", schema


def _operation(rt, action, schema_name, *, body=None, content=("application/json",)):
    op_name = "".join(p.title() for p in (rt.group.split(".")[0] if rt.group else "core", rt.version))
    op = {"operationId": f"{action}{op_name}{'Namespaced' if rt.namespaced else ''}{rt.kind}",
          "tags": [f"{rt.group or 'core'}_{rt.version}"], "x-kubernetes-action": action,
          "x-kubernetes-group-version-kind": {"group": rt.group, "version": rt.version, "kind": rt.kind},
          "parameters": [_QUERY["dryRun"], _QUERY["fieldManager"], _QUERY["fieldValidation"]]
          if body else [],
          "responses": {"200": {"description": "OK", "content": {
              "application/json": {"schema": {"$ref": _REF + schema_name}}}},
              "401": {"description": "Unauthorized"}}}
    if body:
        op["requestBody"] = {"content": {c: {"schema": {"$ref": _REF + schema_name}} for c in content},
                             "required": True}
    return op


def _paths(rt, schema_name):
    root = f"/apis/{rt.group}/{rt.version}" if rt.group else f"/api/{rt.version}"
    scope = f"{root}/namespaces/{{namespace}}/" if rt.namespaced else f"{root}/"
    item = {"get": _operation(rt, "get", schema_name), "delete": _operation(rt, "delete", schema_name),
            "put": _operation(rt, "put", schema_name, body=True),
            "patch": _operation(rt, "patch", schema_name, body=True,
                                content=_PATCH_TYPES if not rt.group else
                                tuple(t for t in _PATCH_TYPES if "strategic" not in t))}
    collection = {"get": _operation(rt, "list", schema_name), "post": _operation(rt, "post", schema_name, body=True)}
    paths = {}
    if "create" in rt.verbs and rt.verbs == ("create",):
        paths[scope + rt.plural] = {"post": collection["post"]}
        return paths
    paths[scope + rt.plural] = collection
    paths[f"{scope}{rt.plural}/{{name}}"] = item
    if "status" in rt.subresources:
        paths[f"{scope}{rt.plural}/{{name}}/status"] = {k: item[k] for k in ("get", "put", "patch")}
    return paths


@functools.cache
def gv_document(group, version):
    """The OpenAPI v3 document of one group/version; None when the sandbox does not serve it."""
    types_ = [rt for rt in RESOURCE_TYPES if (rt.group, rt.version) == (group, version)]
    if not types_:
        return None
    components = dict(builtin_components(group, version))
    components.update(object_meta_components())
    paths = {}
    for rt in types_:
        if rt.group and crdschema.crd_version(rt.api_version, rt.kind) is not None:
            name, schema = _crd_component(rt)
            components[name] = schema
        else:
            name = next(n for n, s in components.items()
                        if {"group": group, "kind": rt.kind, "version": version}
                        in s.get("x-kubernetes-group-version-kind", []))
        paths.update(_paths(rt, name))
    return {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": VERSION_INFO["gitVersion"]},
            "paths": paths, "components": {"schemas": components}}


def _gv_path(group, version):
    return f"apis/{group}/{version}" if group else f"api/{version}"


@functools.cache
def gv_document_bytes(group, version):
    doc = gv_document(group, version)
    return None if doc is None else json.dumps(doc).encode()


def document_for_path(path):
    """The v3 document bytes for "api/v1" or "apis/<group>/<version>"; None when not served."""
    for group, version in group_versions():
        if _gv_path(group, version) == path:
            return gv_document_bytes(group, version)
    return None


def v3_index():
    paths = {}
    for group, version in group_versions():
        digest = hashlib.sha512(gv_document_bytes(group, version)).hexdigest()[:128].upper()
        paths[_gv_path(group, version)] = {"serverRelativeURL": f"/openapi/v3/{_gv_path(group, version)}"
                                                                f"?hash={digest}"}
    return {"paths": paths}


@functools.cache
def v2_document_bytes():
    """Swagger 2.0 JSON of every group (what /openapi/v2 answers to Accept: application/json)."""
    definitions, paths = {}, {}
    for group, version in group_versions():
        doc = gv_document(group, version)
        definitions.update(doc["components"]["schemas"])
        for path, ops in doc["paths"].items():
            paths[path] = {method: {k: v for k, v in op.items() if k not in ("requestBody", "responses", "parameters")}
                           | {"parameters": [{k: v for k, v in p.items() if k != "schema"} | p["schema"]
                                             for p in op["parameters"]],
                              "responses": {"200": {"description": "OK"}}} for method, op in ops.items()}
    text = json.dumps({"swagger": "2.0", "info": {"title": "Kubernetes", "version": VERSION_INFO["gitVersion"]},
                       "paths": paths, "definitions": definitions})
    return text.replace('"#/components/schemas/', '"#/definitions/').encode()
