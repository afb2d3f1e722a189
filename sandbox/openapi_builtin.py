"""OpenAPI schemas of the built-in kinds the sandbox serves, derived from the official Python
client's models (generated from Kubernetes' own OpenAPI document, so the field names, types and
descriptions are Kubernetes'). Component names follow kube-apiserver's ("io.k8s.api.core.v1.Pod").

What the models do not carry (x-kubernetes-patch-merge-key and friends) is left out: kubectl then
sends whole lists in its patches, which the sandbox's merge applies correctly.
"""

import datetime
import functools
import re
import types
import typing

import kubernetes.client.models as models
import pydantic

META_PREFIX = "io.k8s.apimachinery.pkg.apis.meta.v1."
_META_TYPES = {"ObjectMeta", "ListMeta", "ManagedFieldsEntry", "OwnerReference", "LabelSelector",
               "LabelSelectorRequirement", "Status", "StatusDetails", "StatusCause", "Condition"}
_PACKAGES = {"authorization": "io.k8s.api.authorization.v1."}
_CLASS_NAME = re.compile(r"^(?:CoreV1)?(V\d+(?:alpha\d+|beta\d+)?)?(\w+)$")

# Kind -> the client's model class, for each built-in group/version the sandbox serves.
BUILTIN_MODELS = {
    ("", "v1"): {"Namespace": models.V1Namespace, "Pod": models.V1Pod, "Event": models.CoreV1Event,
                 "PersistentVolumeClaim": models.V1PersistentVolumeClaim, "Secret": models.V1Secret,
                 "ConfigMap": models.V1ConfigMap, "ServiceAccount": models.V1ServiceAccount,
                 "Service": models.V1Service, "Node": models.V1Node},
    ("authorization.k8s.io", "v1"): {"SelfSubjectAccessReview": models.V1SelfSubjectAccessReview,
                                     "SelfSubjectRulesReview": models.V1SelfSubjectRulesReview},
}


def component_name(cls, package=None):
    short = _CLASS_NAME.match(cls.__name__).group(2)
    if short in _META_TYPES:
        return META_PREFIX + short
    if package is None:
        module = cls.__module__.rsplit(".", 1)[-1]
        package = next((p for key, p in _PACKAGES.items() if key in module), "io.k8s.api.core.v1.")
    return package + short


def _description(cls):
    text = (cls.__doc__ or "").split("Attributes:")[0]
    return " ".join(text.split())


def _field_schema(annotation, components):
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _field_schema(args[0], components)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        return _field_schema(inner[0], components) if len(inner) == 1 else {}
    if origin is list:
        return {"type": "array", "items": _field_schema(args[0], components)}
    if origin is dict:
        return {"type": "object", "additionalProperties": _field_schema(args[1], components)}
    if isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
        return {"$ref": "#/components/schemas/" + model_schema(annotation, components)}
    simple = {str: {"type": "string"}, bool: {"type": "boolean"}, int: {"type": "integer", "format": "int64"},
              float: {"type": "number", "format": "double"},
              datetime.datetime: {"type": "string", "format": "date-time"}}
    return dict(simple.get(annotation, {"type": "object"}))


def model_schema(cls, components, gvk=None):
    """Add `cls` (and every model it refers to) to `components`; returns its component name."""
    name = component_name(cls)
    if name in components:
        return name
    schema = {"type": "object", "description": _description(cls), "properties": {}}
    components[name] = schema  # placed first: models refer to themselves (JSONSchemaProps does)
    required = []
    for attr, info in cls.model_fields.items():
        key = info.serialization_alias or info.alias or attr
        prop = _field_schema(info.annotation, components)
        if "$ref" in prop:
            prop = {"allOf": [prop], "default": {}}
        if info.description:
            prop["description"] = info.description
        schema["properties"][key] = prop
        if info.is_required():
            required.append(key)
    if required:
        schema["required"] = required
    if gvk is not None:
        schema["x-kubernetes-group-version-kind"] = [gvk]
    return name


@functools.cache
def builtin_components(group, version):
    """{component name: schema} for the built-in kinds of one group/version (and what they use)."""
    components = {}
    for kind, cls in BUILTIN_MODELS.get((group, version), {}).items():
        model_schema(cls, components, gvk={"group": group, "kind": kind, "version": version})
    return components


def object_meta_components():
    components = {}
    model_schema(models.V1ObjectMeta, components)
    return components
