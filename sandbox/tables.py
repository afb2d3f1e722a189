"""Server-side printing: the meta.k8s.io Table kubectl asks for (Accept: ...;as=Table;g=meta.k8s.io).

Columns of the built-in kinds as kube-apiserver v1.31 prints them (kubernetes
pkg/printers/internalversion/printers.go); custom resources get "Name" plus their CRD's
additionalPrinterColumns (apiextensions-apiserver pkg/registry/customresource/tableconvertor),
with date columns turned into ages on the server, as there.
"""

import datetime
import re

from . import crdschema

_NAME = {"name": "Name", "type": "string", "format": "name", "priority": 0,
         "description": "Name must be unique within a namespace."}


def _col(name, type_="string", priority=0, description=""):
    return {"name": name, "type": type_, "format": "", "priority": priority, "description": description}


def human_age(timestamp, now=None):
    """Age as kubectl shows it (k8s.io/apimachinery pkg/util/duration.HumanDuration)."""
    if not timestamp:
        return "<unknown>"
    then = datetime.datetime.fromisoformat(str(timestamp).replace("Z", "+00:00"))
    seconds = int(((now or datetime.datetime.now(datetime.UTC)) - then).total_seconds())
    if seconds < -1:
        return "<invalid>"
    seconds = max(seconds, 0)
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if seconds < 120:
        return f"{seconds}s"
    if minutes < 10:
        return f"{minutes}m{seconds % 60}s" if seconds % 60 else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    if hours < 8:
        return f"{hours}h{minutes % 60}m" if minutes % 60 else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        return f"{days}d{hours % 24}h" if hours % 24 else f"{days}d"
    if days < 365 * 2:
        return f"{days}d"
    return f"{days // 365}y"


def _pod_row(pod):
    status = pod.get("status") or {}
    containers = (pod.get("spec") or {}).get("containers") or []
    statuses = status.get("containerStatuses") or []
    reason = status.get("reason") or status.get("phase") or ""
    for cs in statuses:
        state = cs.get("state") or {}
        if (state.get("waiting") or {}).get("reason"):
            reason = state["waiting"]["reason"]
        elif (state.get("terminated") or {}).get("reason"):
            reason = state["terminated"]["reason"]
    if pod["metadata"].get("deletionTimestamp"):
        reason = "Terminating"
    ready = sum(1 for cs in statuses if cs.get("ready"))
    restarts = sum(cs.get("restartCount", 0) for cs in statuses)
    return [f"{ready}/{len(containers)}", reason, str(restarts), human_age(pod["metadata"].get("creationTimestamp")),
            status.get("podIP") or "<none>", (pod.get("spec") or {}).get("nodeName") or "<none>", "<none>", "<none>"]


_ACCESS = {"ReadWriteOnce": "RWO", "ReadOnlyMany": "ROX", "ReadWriteMany": "RWX", "ReadWriteOncePod": "RWOP"}


def _pvc_row(pvc):
    spec, status = pvc.get("spec") or {}, pvc.get("status") or {}
    modes = ",".join(_ACCESS.get(m, m) for m in status.get("accessModes") or [])
    return [status.get("phase", "Pending"), spec.get("volumeName", ""), (status.get("capacity") or {}).get("storage", ""),
            modes, spec.get("storageClassName") or "<unset>", spec.get("volumeAttributesClassName") or "<unset>",
            human_age(pvc["metadata"].get("creationTimestamp")), spec.get("volumeMode", "Filesystem")]


def _event_row(ev):
    involved = ev.get("involvedObject") or {}
    last = ev.get("lastTimestamp") or ev.get("eventTime") or ev["metadata"].get("creationTimestamp")
    source = ev.get("source") or {}
    return [human_age(last), ev.get("type", ""), ev.get("reason", ""),
            f"{involved.get('kind', '').lower()}/{involved.get('name', '')}", involved.get("fieldPath", ""),
            source.get("component", ""), ev.get("message", ""), human_age(ev.get("firstTimestamp") or last),
            ev.get("count", 1), ev["metadata"]["name"]]


def _service_row(svc):
    spec = svc.get("spec") or {}
    ports = ",".join(f"{p.get('port')}/{p.get('protocol', 'TCP')}" for p in spec.get("ports") or []) or "<none>"
    return [spec.get("type", "ClusterIP"), spec.get("clusterIP", "<none>"), "<none>", ports,
            human_age(svc["metadata"].get("creationTimestamp"))]


def _age(obj):
    return human_age(obj["metadata"].get("creationTimestamp"))


_NODE_ROLE_PREFIX, _NODE_ROLE_LABEL = "node-role.kubernetes.io/", "kubernetes.io/role"


def _node_row(node):
    """printNode: Ready / NotReady / Unknown from the Ready condition, then SchedulingDisabled when cordoned;
    roles from node-role.kubernetes.io/<role> labels (and kubernetes.io/role), "<none>" without."""
    status, spec = node.get("status") or {}, node.get("spec") or {}
    ready = next((c for c in status.get("conditions") or [] if c.get("type") == "Ready"), None)
    words = ["Unknown" if ready is None else "Ready" if ready.get("status") == "True" else "NotReady"]
    if spec.get("unschedulable"):
        words.append("SchedulingDisabled")
    labels = node["metadata"].get("labels") or {}
    roles = {k.removeprefix(_NODE_ROLE_PREFIX) for k in labels if k.startswith(_NODE_ROLE_PREFIX)} - {""}
    if labels.get(_NODE_ROLE_LABEL):
        roles.add(labels[_NODE_ROLE_LABEL])
    info = status.get("nodeInfo") or {}
    addresses = status.get("addresses") or []

    def address(kind):
        return next((a.get("address") for a in addresses if a.get("type") == kind), "<none>")

    return [",".join(words), ",".join(sorted(roles)) or "<none>", _age(node), info.get("kubeletVersion", ""),
            address("InternalIP"), address("ExternalIP"), info.get("osImage") or "<unknown>",
            info.get("kernelVersion") or "<unknown>", info.get("containerRuntimeVersion") or "<unknown>"]


BUILTIN = {
    "Pod": ([_col("Ready"), _col("Status"), _col("Restarts"), _col("Age"), _col("IP", priority=1),
             _col("Node", priority=1), _col("Nominated Node", priority=1), _col("Readiness Gates", priority=1)],
            _pod_row),
    "Namespace": ([_col("Status"), _col("Age")], lambda o: [(o.get("status") or {}).get("phase", ""), _age(o)]),
    "PersistentVolumeClaim": ([_col("Status"), _col("Volume"), _col("Capacity"), _col("Access Modes"),
                               _col("StorageClass"), _col("VolumeAttributesClass"), _col("Age"),
                               _col("VolumeMode", priority=1)], _pvc_row),
    "ConfigMap": ([_col("Data", "integer"), _col("Age")], lambda o: [len(o.get("data") or {}) + len(
        o.get("binaryData") or {}), _age(o)]),
    "Secret": ([_col("Type"), _col("Data", "integer"), _col("Age")],
               lambda o: [o.get("type", "Opaque"), len(o.get("data") or {}), _age(o)]),
    "ServiceAccount": ([_col("Secrets", "integer"), _col("Age")], lambda o: [len(o.get("secrets") or []), _age(o)]),
    "Service": ([_col("Type"), _col("Cluster-IP"), _col("External-IP"), _col("Port(s)"), _col("Age")], _service_row),
    # printers.go nodeColumnDefinitions: the addresses and software versions are wide-output columns.
    "Node": ([_col("Status"), _col("Roles"), _col("Age"), _col("Version"), _col("Internal-IP", priority=1),
              _col("External-IP", priority=1), _col("OS-Image", priority=1), _col("Kernel-Version", priority=1),
              _col("Container-Runtime", priority=1)], _node_row),
    # Events lead with Last Seen; their name is a wide-output column (printers.go eventColumnDefinitions).
    "Event": ([_col("Last Seen"), _col("Type"), _col("Reason"), _col("Object"), _col("Subobject", priority=1),
               _col("Source", priority=1), _col("Message"), _col("First Seen", priority=1),
               _col("Count", "integer", priority=1), {**_NAME, "priority": 1}], _event_row),
}
_NAME_LAST = {"Event"}

_TOKEN = re.compile(r"\.([A-Za-z0-9_-]+)|\['((?:[^'\\]|\\.)*)'\]|\[\?\(@\.([\w.]+)==(?:'([^']*)'|(\w+))\)\]|\[(\*|\d+)\]")


def jsonpath_values(obj, path):
    """The values a CRD printer column's JSONPath selects (the subset CRDs use)."""
    nodes = [obj]
    for match in _TOKEN.finditer(path):
        field, key, filter_field, quoted, bare, index = match.groups()
        out = []
        for node in nodes:
            if field or key is not None:
                name = field or key.replace("\\", "")
                if isinstance(node, dict) and name in node:
                    out.append(node[name])
            elif filter_field:
                want = quoted if quoted is not None else {"true": True, "false": False}.get(bare, bare)
                for item in node if isinstance(node, list) else []:
                    value = item
                    for part in filter_field.split("."):
                        value = value.get(part) if isinstance(value, dict) else None
                    if value == want:
                        out.append(item)
            elif index == "*":
                out.extend(node if isinstance(node, list) else (node.values() if isinstance(node, dict) else []))
            elif isinstance(node, list) and int(index) < len(node):
                out.append(node[int(index)])
        nodes = out
    return nodes


def _crd_columns(rt):
    entry = crdschema.crd_version(rt.api_version, rt.kind) or {}
    columns = entry.get("additionalPrinterColumns") or [
        {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}]
    return columns


def _crd_cell(obj, column):
    values = jsonpath_values(obj, column["jsonPath"])
    if not values:
        return None
    if column.get("type") == "date":
        return human_age(values[0])
    if len(values) == 1 and column.get("type") in ("integer", "number", "boolean"):
        return values[0]
    return ",".join(v if isinstance(v, str) else str(v).lower() if isinstance(v, bool) else str(v) for v in values)


def table_version(accept):
    """"v1" or "v1beta1" when the client asked for a Table, else None."""
    for part in (accept or "").split(","):
        params = dict(p.strip().partition("=")[::2] for p in part.split(";")[1:])
        if params.get("as") == "Table" and params.get("g") == "meta.k8s.io":
            return params.get("v", "v1")
    return None


def _partial(obj, include):
    if include == "None":
        return None
    if include == "Object":
        return obj
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj["metadata"]}


def table(rt, objects, *, version="v1", include="Metadata", resource_version=None, headers=True):
    if rt.kind in BUILTIN and not rt.group:
        extra, row_of = BUILTIN[rt.kind]
        if rt.kind in _NAME_LAST:
            definitions, cells = list(extra), [row_of(o) for o in objects]
        else:
            definitions = [_NAME, *extra]
            cells = [[o["metadata"]["name"], *row_of(o)] for o in objects]
    else:
        columns = _crd_columns(rt)
        definitions = [_NAME] + [_col(c["name"], c.get("type", "string"), c.get("priority", 0),
                                      c.get("description", "")) for c in columns]
        cells = [[o["metadata"]["name"], *(_crd_cell(o, c) for c in columns)] for o in objects]
    rows = [{"cells": row, "object": _partial(o, include)} for row, o in zip(cells, objects)]
    result = {"kind": "Table", "apiVersion": f"meta.k8s.io/{version}",
              "metadata": {"resourceVersion": resource_version} if resource_version else {}, "rows": rows}
    result["columnDefinitions"] = definitions if headers else []
    return result
