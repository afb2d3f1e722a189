"""Patch and server-side-apply mechanics on plain dicts.

Server-side apply is simplified: lists are atomic (replaced whole), and each
field manager owns the leaf paths it applied (recorded as FieldsV1 in
metadata.managedFields). Re-applying drops the fields the manager applied
before but no longer sends, and a field owned by another manager with a
different value is a conflict unless force=true, as on a real API server.
"""

import copy

# Server-populated metadata that clients never own.
SERVER_METADATA = ("uid", "resourceVersion", "generation", "creationTimestamp", "managedFields",
                   "deletionTimestamp", "selfLink")
_IDENTITY = {("apiVersion",), ("kind",), ("metadata", "name"), ("metadata", "namespace")}


def merge_patch(target, patch):
    """RFC 7386 JSON merge patch: dicts merge, None deletes, everything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def strategic_directives_drop(patch):
    """A strategic merge patch without its $-directives ($setElementOrder/..., $retainKeys, $patch).

    The sandbox merges strategic patches as JSON merge patches; kubectl sends whole lists for the
    kinds it learns from the sandbox's OpenAPI (no patch-merge-key there), so only the ordering
    and retain directives need dropping.
    """
    if isinstance(patch, dict):
        return {k: strategic_directives_drop(v) for k, v in patch.items() if not k.startswith("$")}
    if isinstance(patch, list):
        return [strategic_directives_drop(v) for v in patch]
    return patch


def _pointer_parts(pointer):
    return [p.replace("~1", "/").replace("~0", "~") for p in pointer.lstrip("/").split("/")] if pointer else []


def json_patch(target, operations):
    """RFC 6902 add / replace / remove / test, enough for what clients send."""
    result = copy.deepcopy(target)
    for op in operations:
        parts = _pointer_parts(op.get("path", ""))
        parent = result
        for part in parts[:-1]:
            parent = parent[int(part)] if isinstance(parent, list) else parent.setdefault(part, {})
        last = parts[-1] if parts else None
        kind = op.get("op")
        if kind in ("add", "replace"):
            if isinstance(parent, list):
                index = len(parent) if last == "-" else int(last)
                parent.insert(index, op["value"]) if kind == "add" else parent.__setitem__(index, op["value"])
            else:
                parent[last] = op["value"]
        elif kind == "remove":
            parent.pop(int(last) if isinstance(parent, list) else last)
        elif kind == "test":
            actual = parent[int(last)] if isinstance(parent, list) else parent.get(last)
            if actual != op.get("value"):
                raise ValueError(f"test failed at {op.get('path')}")
        else:
            raise ValueError(f"unsupported JSON patch operation {kind!r}")
    return result


def leaf_paths(obj, prefix=()):
    """Every leaf path of a dict tree (lists and scalars are leaves)."""
    if not isinstance(obj, dict) or not obj:
        return {prefix} if prefix else set()
    paths = set()
    for key, value in obj.items():
        paths |= leaf_paths(value, prefix + (key,))
    return paths


def owned_paths(obj):
    """The paths a client sets in an applied or written object (identity and server fields excluded)."""
    body = copy.deepcopy(obj)
    meta = body.get("metadata") or {}
    for key in SERVER_METADATA:
        meta.pop(key, None)
    return {p for p in leaf_paths(body) if p not in _IDENTITY}


def fields_v1(paths):
    """FieldsV1 as the API server renders it: {"f:spec": {"f:x": {}}}."""
    tree = {}
    for path in sorted(paths):
        node = tree
        for part in path:
            node = node.setdefault(f"f:{part}", {})
    return tree


def paths_from_fields_v1(tree, prefix=()):
    paths = set()
    for key, child in (tree or {}).items():
        path = prefix + (key[2:] if key.startswith("f:") else key,)
        paths |= paths_from_fields_v1(child, path) if child else {path}
    return paths


def get_path(obj, path):
    node = obj
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return _MISSING
        node = node[part]
    return node


def set_path(obj, path, value):
    node = obj
    for part in path[:-1]:
        if not isinstance(node.get(part), dict):
            node[part] = {}
        node = node[part]
    node[path[-1]] = copy.deepcopy(value)


def remove_path(obj, path):
    """Remove a leaf and any dicts it leaves empty."""
    trail, node = [], obj
    for part in path[:-1]:
        if not isinstance(node, dict) or part not in node:
            return
        trail.append((node, part))
        node = node[part]
    if isinstance(node, dict):
        node.pop(path[-1], None)
    for parent, key in reversed(trail):
        if parent[key] == {}:
            del parent[key]


class _Missing:
    pass


_MISSING = _Missing()


def deep_merge(base, overlay):
    """Overlay wins; dicts merge recursively; lists are atomic."""
    result = copy.deepcopy(base)
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = deep_merge(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result
