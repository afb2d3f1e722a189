"""Prometheus text for every running serving pod: what Knative's queue-proxy and NVIDIA's DCGM
exporter would export, with values that follow from the simulated traffic.

Served by the sandbox API on `GET /metrics/pods` (one scrape target for all simulated pods).

Queue-proxy, knative/serving knative-v1.23.0 (the version of the CRDs in shared/crds):
  pkg/queue/request_metric.go: the histogram `kn.serving.invocation.duration` (unit "s", bounds
  0.005 … 10, attribute `http.response.status_code`) and the gauge `kn.serving.queue.depth`
  (requests in flight through the breaker); instrumentation scope "knative.dev/serving/pkg/queue".
  vendor/knative.dev/pkg/observability/metrics/prometheus_enabled.go exports them with
  UnderscoreEscapingWithSuffixes: `kn_serving_invocation_duration_seconds_{bucket,count,sum}`,
  `kn_serving_queue_depth`. pkg/queue/sharedmain/otel.go puts `k8s.namespace.name`, `k8s.pod.name`
  and `kn.service.name` / `kn.configuration.name` / `kn.revision.name` (pkg/metrics/key.go) on the
  resource; here they appear on each series as `namespace` and `pod` (what Prometheus's pod
  service discovery adds) and `kn_service_name`, `kn_configuration_name`, `kn_revision_name`
  (the resource attributes promoted to labels), since one target stands for every pod.
  (The older `revision_request_count` / `revision_request_latencies` were OpenCensus names that
  v1.23 no longer exports.)

DCGM exporter, NVIDIA/dcgm-exporter 4.5.3-4.8.2: etc/default-counters.csv (DCGM_FI_DEV_GPU_UTIL
gauge %, DCGM_FI_DEV_FB_USED / DCGM_FI_DEV_FB_FREE gauge MiB, DCGM_FI_DEV_POWER_USAGE gauge W) and
internal/pkg/rendermetrics/render_metrics.go for the labels (gpu, UUID, pci_bus_id, device,
modelName, Hostname), plus container/namespace/pod from internal/pkg/transformation/const.go.

The traffic: each ready pod serves REQUESTS_PER_SECOND (real seconds) since it became ready, a
share ERROR_RATIO of them answered 500, with log-normal latencies (median LATENCY_MEDIAN_SECONDS).
Counters are a function of the wall clock, so a test can compute exactly what Prometheus saw.
"""

import hashlib
import math
import time
from datetime import datetime

from .sim_pods import PODS

METRICS_PATH = "/metrics/pods"  # where the sandbox API serves them
REQUESTS_PER_SECOND = 40.0  # enough that whole-request counts read smoothly over a 4 s rate window
ERROR_RATIO = 0.02
LATENCY_MEDIAN_SECONDS = 0.12
LATENCY_SIGMA = 0.5
# knative/serving knative-v1.23.0 pkg/queue/request_metric.go, latencyBounds
LATENCY_BOUNDS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10)
GPU_MODEL, GPU_MEMORY_MIB, GPU_MEMORY_SHARE = "NVIDIA A100-SXM4-80GB", 81920, 0.85
REVISION_LABEL = "serving.knative.dev/revision"
SCOPE = 'otel_scope_name="knative.dev/serving/pkg/queue"'


def latency_cdf(seconds):
    """Share of requests answered within `seconds`."""
    z = (math.log(seconds) - math.log(LATENCY_MEDIAN_SECONDS)) / LATENCY_SIGMA
    return 0.5 * (1 + math.erf(z / math.sqrt(2)))


def latency_mean():
    return LATENCY_MEDIAN_SECONDS * math.exp(LATENCY_SIGMA ** 2 / 2)


def in_flight_per_pod():
    """Little's law: the concurrency one pod sees."""
    return REQUESTS_PER_SECOND * latency_mean()


def bucket_quantile(q):
    """The q-quantile as Prometheus' histogram_quantile reads it from these buckets (linear in a bucket)."""
    previous_bound, previous_share = 0.0, 0.0
    for bound in LATENCY_BOUNDS:
        share = latency_cdf(bound)
        if share >= q:
            return previous_bound + (bound - previous_bound) * (q - previous_share) / (share - previous_share)
        previous_bound, previous_share = bound, share
    return LATENCY_BOUNDS[-1]


def _ready_since(pod):
    for state in (c.get("state") or {} for c in (pod.get("status") or {}).get("containerStatuses") or []):
        started = (state.get("running") or {}).get("startedAt")
        if started:
            return datetime.fromisoformat(started.replace("Z", "+00:00")).timestamp()
    return None


def _labels(**pairs):
    return ",".join(f'{k}="{v}"' for k, v in pairs.items())


def _gpus(pod):
    total = 0
    for container in pod["spec"].get("containers") or []:
        limits = (container.get("resources") or {}).get("limits") or {}
        try:
            total += int(limits.get("nvidia.com/gpu", 0))
        except (TypeError, ValueError):
            pass
    return total


def _pod_series(pod, now):
    meta = pod["metadata"]
    labels = meta.get("labels") or {}
    since = _ready_since(pod)
    if (pod.get("status") or {}).get("phase") != "Running" or REVISION_LABEL not in labels or since is None:
        return [], []
    served = REQUESTS_PER_SECOND * max(0.0, now - since)
    target = _labels(namespace=meta["namespace"], pod=meta["name"],
                     kn_service_name=labels.get("serving.knative.dev/service", ""),
                     kn_configuration_name=labels.get("serving.knative.dev/configuration", ""),
                     kn_revision_name=labels[REVISION_LABEL])
    knative = [f"kn_serving_queue_depth{{{target},{SCOPE}}} {round(in_flight_per_pod())}"]
    errors = math.floor(served * ERROR_RATIO)
    for code, count in (("200", math.floor(served) - errors), ("500", errors)):
        series = f'{target},http_response_status_code="{code}",{SCOPE}'
        for bound in LATENCY_BOUNDS:
            knative.append(f'kn_serving_invocation_duration_seconds_bucket{{{series},le="{bound}"}} '
                           f"{math.floor(count * latency_cdf(bound))}")
        knative.append(f'kn_serving_invocation_duration_seconds_bucket{{{series},le="+Inf"}} {count}')
        knative.append(f"kn_serving_invocation_duration_seconds_sum{{{series}}} {count * latency_mean():.3f}")
        knative.append(f"kn_serving_invocation_duration_seconds_count{{{series}}} {count}")
    gpu = []
    container = (pod["spec"].get("containers") or [{}])[0].get("name", "")
    used = round(GPU_MEMORY_MIB * GPU_MEMORY_SHARE)
    utilisation = round(100 * in_flight_per_pod() / (in_flight_per_pod() + 2))  # busy, not saturated
    for index in range(_gpus(pod)):
        digest = hashlib.sha1(f"{meta.get('uid', meta['name'])}/{index}".encode()).hexdigest()
        uuid = f"GPU-{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"
        device = _labels(gpu=index, UUID=uuid, pci_bus_id=f"00000000:{index + 7:02X}:00.0", device=f"nvidia{index}",
                         modelName=GPU_MODEL, Hostname=f"gpu-node-{digest[:5]}", container=container,
                         namespace=meta["namespace"], pod=meta["name"])
        gpu.append(("DCGM_FI_DEV_GPU_UTIL", f"{{{device}}} {utilisation}"))
        gpu.append(("DCGM_FI_DEV_FB_USED", f"{{{device}}} {used}"))
        gpu.append(("DCGM_FI_DEV_FB_FREE", f"{{{device}}} {GPU_MEMORY_MIB - used}"))
        gpu.append(("DCGM_FI_DEV_POWER_USAGE", f"{{{device}}} {90 + 3 * utilisation:.3f}"))
    return knative, gpu


_HELP = {
    "DCGM_FI_DEV_GPU_UTIL": "GPU utilization (in %).",
    "DCGM_FI_DEV_FB_USED": "Framebuffer memory used (in MiB).",
    "DCGM_FI_DEV_FB_FREE": "Framebuffer memory free (in MiB).",
    "DCGM_FI_DEV_POWER_USAGE": "Power draw (in W).",
}


def pods_metrics_text(store, now=None):
    """The exposition text (version 0.0.4) for every running serving pod in the store."""
    now = time.time() if now is None else now
    knative, gpu = [], []
    for pod in store.objects(PODS):
        k, g = _pod_series(pod, now)
        knative += k
        gpu += g
    lines = ["# HELP kn_serving_queue_depth Number of current requests in the queue",
             "# TYPE kn_serving_queue_depth gauge",
             *(line for line in knative if line.startswith("kn_serving_queue_depth")),
             "# HELP kn_serving_invocation_duration_seconds The duration of task execution",
             "# TYPE kn_serving_invocation_duration_seconds histogram",
             *(line for line in knative if not line.startswith("kn_serving_queue_depth"))]
    for name, help_text in _HELP.items():
        lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
        lines += [name + rest for metric, rest in gpu if metric == name]
    return "\n".join(lines) + "\n"
