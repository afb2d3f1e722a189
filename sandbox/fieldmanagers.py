"""metadata.managedFields bookkeeping and the server-side apply merge.

Each write records which manager set which leaf paths (FieldsV1). Apply uses it
to drop fields a manager stopped sending and to detect conflicts with fields
other managers set to a different value.
"""

import copy

from .errors import ApiError
from .merging import _MISSING, fields_v1, get_path, owned_paths, paths_from_fields_v1, remove_path, set_path


def _entries(obj):
    return copy.deepcopy((obj.get("metadata") or {}).get("managedFields") or [])


def _entry_paths(entry):
    return paths_from_fields_v1(entry.get("fieldsV1"))


def _record(entries, *, manager, operation, api_version, paths, now, replace_paths):
    """Give `paths` to (manager, operation); other managers lose those in `replace_paths`."""
    kept = []
    mine = None
    for entry in entries:
        if entry.get("manager") == manager and entry.get("operation") == operation:
            mine = entry
            continue
        remaining = _entry_paths(entry) - replace_paths
        if remaining:
            entry["fieldsV1"] = fields_v1(remaining)
            kept.append(entry)
    if operation == "Update" and mine is not None:
        paths = paths | _entry_paths(mine)
    if paths:
        new_entry = {"manager": manager, "operation": operation, "apiVersion": api_version,
                     "time": now, "fieldsType": "FieldsV1", "fieldsV1": fields_v1(paths)}
        if mine is not None and mine.get("fieldsV1") == new_entry["fieldsV1"]:
            new_entry["time"] = mine.get("time", now)  # unchanged ownership keeps its timestamp
        kept.append(new_entry)
    return kept


def managed_fields_for_update(old, new, *, manager, now):
    """managedFields after a create/PUT/patch by `manager`: it owns what it changed or set."""
    new_paths = owned_paths(new)
    if old is None:
        changed = new_paths
    else:
        changed = {p for p in new_paths if get_path(old, p) != get_path(new, p)}
    return _record(_entries(old or {}), manager=manager, operation="Update", api_version=new.get("apiVersion"),
                   paths=changed, now=now, replace_paths=changed)


def apply_merge(existing, applied, *, manager, force, now):
    """The object after `manager` applies `applied` onto `existing` (None when creating)."""
    new_paths = owned_paths(applied)
    api_version = applied.get("apiVersion")
    if existing is None:
        result = copy.deepcopy(applied)
        result.setdefault("metadata", {})["managedFields"] = _record(
            [], manager=manager, operation="Apply", api_version=api_version, paths=new_paths, now=now,
            replace_paths=set())
        return result

    entries = _entries(existing)
    mine = next((e for e in entries if e.get("manager") == manager and e.get("operation") == "Apply"), None)
    old_paths = _entry_paths(mine) if mine else set()
    others_paths = set()
    conflicts = []
    for entry in entries:
        if entry is mine:
            continue
        paths = _entry_paths(entry)
        others_paths |= paths
        for path in sorted(paths & new_paths):
            if get_path(existing, path) != get_path(applied, path):
                conflicts.append(f'conflict with "{entry.get("manager")}": .{".".join(path)}')
    if conflicts and not force:
        raise ApiError(409, "Conflict", f"Apply failed with {len(conflicts)} conflict(s): " + "; ".join(conflicts),
                       details={"causes": [{"reason": "FieldManagerConflict", "message": c} for c in conflicts]})

    result = copy.deepcopy(existing)
    for path in old_paths - new_paths - others_paths:
        remove_path(result, path)
    for path in new_paths:
        value = get_path(applied, path)
        if value is not _MISSING:
            set_path(result, path, value)
    # With force (or without conflicts) the applier takes every field it sent.
    result["metadata"]["managedFields"] = _record(
        entries, manager=manager, operation="Apply", api_version=api_version, paths=new_paths, now=now,
        replace_paths=new_paths)
    return result
