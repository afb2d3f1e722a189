"""Update rules kube-apiserver enforces on the built-in kinds the sandbox stores.

PVC: kubernetes v1.31 pkg/apis/core/validation/validation.go ValidatePersistentVolumeClaimUpdate:
the spec is immutable except resources.requests (and volumeAttributesClassName), and the storage
request may not shrink: field.Forbidden(spec.resources.requests.storage, "field can not be less
than previous value"), rendered "spec.resources.requests.storage: Forbidden: field can not be less
than previous value".
"""

import re
from decimal import Decimal, InvalidOperation

_SUFFIX = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60, "n": Decimal("1e-9"),
           "u": Decimal("1e-6"), "m": Decimal("1e-3"), "": 1, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12,
           "P": 10**15, "E": 10**18}
_QUANTITY = re.compile(r"^([+-]?[0-9.]+)(?:([eE][+-]?[0-9]+)|(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?)$")
PVC_MUTABLE_SPEC = ("resources", "volumeAttributesClassName")
PVC_IMMUTABLE = ("spec: Forbidden: spec is immutable after creation except resources.requests and "
                 "volumeAttributesClassName for bound claims")


def quantity_parse(text):
    """A resource.Quantity string ("10Gi", "500m", "1e3") as a Decimal; None when unreadable."""
    match = _QUANTITY.match(str(text).strip())
    if not match:
        return None
    try:
        number = Decimal(match.group(1))
    except InvalidOperation:
        return None
    if match.group(2):
        return number * (Decimal(10) ** int(match.group(2)[1:]))
    return number * Decimal(_SUFFIX[match.group(3) or ""])


def _storage(pvc):
    return (((pvc.get("spec") or {}).get("resources") or {}).get("requests") or {}).get("storage")


def update_problems(rt, previous, new):
    """Field errors ("path: Type: detail") an update of a built-in object breaks; [] when allowed."""
    if rt.group or rt.kind != "PersistentVolumeClaim":
        return []
    problems = []
    old_spec = {k: v for k, v in (previous.get("spec") or {}).items() if k not in PVC_MUTABLE_SPEC}
    new_spec = {k: v for k, v in (new.get("spec") or {}).items() if k not in PVC_MUTABLE_SPEC}
    # volumeName is set by the binder after creation; a client may leave it out.
    if {k: v for k, v in old_spec.items() if k != "volumeName"} != {k: v for k, v in new_spec.items()
                                                                     if k != "volumeName"}:
        problems.append(PVC_IMMUTABLE)
    old, new_size = quantity_parse(_storage(previous) or "0"), quantity_parse(_storage(new) or "0")
    if old is not None and new_size is not None and new_size < old:
        problems.append("spec.resources.requests.storage: Forbidden: field can not be less than previous value")
    return problems
