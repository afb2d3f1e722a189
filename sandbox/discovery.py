"""Discovery documents (/api, /api/v1, /apis, /apis/<group>[/<version>]) as kube-apiserver serves them.

Shapes: k8s.io/apimachinery v0.31 pkg/apis/meta/v1/types.go (APIVersions, APIGroupList, APIGroup,
APIResourceList, APIResource). The core list names its groupVersion "v1" (not "/v1"); each
subresource is its own entry ("pods/log", "pods/status") with an empty singularName, the verbs the
subresource serves and no shortNames or categories, as `kubectl get --raw /api/v1` shows on a
v1.31 cluster. Served as legacy discovery (application/json): clients that ask for aggregated
discovery (apidiscovery.k8s.io/v2) fall back to it when the Content-Type says so.
"""

from .resources import RESOURCE_TYPES, SUBRESOURCE_VERBS, group_versions


def _resource_entries(rt):
    main = {"name": rt.plural, "singularName": rt.singular, "namespaced": rt.namespaced, "kind": rt.kind,
            "verbs": sorted(rt.verbs)}
    if rt.shortnames:
        main["shortNames"] = list(rt.shortnames)
    if rt.categories:
        main["categories"] = list(rt.categories)
    entries = [main]
    for sub in rt.subresources:
        entries.append({"name": f"{rt.plural}/{sub}", "singularName": "", "namespaced": rt.namespaced,
                        "kind": rt.kind, "verbs": list(SUBRESOURCE_VERBS[sub])})
    return entries


def api_versions(server_address):
    return {"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}]}


def _group(name):
    versions = [{"groupVersion": f"{g}/{v}", "version": v} for g, v in group_versions() if g == name]
    return {"name": name, "versions": versions, "preferredVersion": versions[0]}


def api_group_list():
    groups = [_group(g) for g in dict.fromkeys(g for g, _ in group_versions() if g)]
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def api_group(name):
    """The APIGroup document of /apis/<group>; None for a group the sandbox does not serve."""
    if name not in {g for g, _ in group_versions() if g}:
        return None
    return {"kind": "APIGroup", "apiVersion": "v1", **_group(name)}


def api_resource_list(group, version):
    """The APIResourceList of /api/v1 or /apis/<group>/<version>; None when not served."""
    types = [rt for rt in RESOURCE_TYPES if (rt.group, rt.version) == (group, version)]
    if not types:
        return None
    doc = {"kind": "APIResourceList", "groupVersion": f"{group}/{version}" if group else version,
           "resources": [entry for rt in types for entry in _resource_entries(rt)]}
    if group:
        doc["apiVersion"] = "v1"
    return doc
