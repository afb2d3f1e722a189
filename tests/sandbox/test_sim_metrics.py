"""The sandbox's /metrics/pods: queue-proxy's and DCGM's series for every running serving pod."""

import math
import time

import pytest
import requests

from sandbox import sim_metrics

KSVC = "services.serving.knative.dev"


def _ksvc(name, *, gpus=1, min_scale=2):
    return {"apiVersion": "serving.knative.dev/v1", "kind": "Service", "metadata": {"name": name},
            "spec": {"template": {"metadata": {"annotations": {
                "autoscaling.knative.dev/min-scale": str(min_scale), "autoscaling.knative.dev/max-scale": "4"}},
                "spec": {"containers": [{"name": "model", "image": "vllm/vllm-openai:v0.11.0",
                                         "resources": {"limits": {"nvidia.com/gpu": str(gpus)}}}]}}}}


def _running(sandbox, namespace, name):
    sandbox.store.create(sandbox_rt(), namespace, _ksvc(name))
    for _ in range(3):
        sandbox.simulator.tick()
        sandbox.simulator.advance(30)
    sandbox.simulator.tick()
    return [p for p in sandbox.objects("pods", namespace) if p["status"].get("phase") == "Running"]


def sandbox_rt():
    from sandbox.resources import resource_type

    return resource_type(KSVC)


def _samples(text):
    samples = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            series, value = line.rsplit(" ", 1)
            samples[series] = float(value)
    return samples


def test_running_pods_export_the_queue_proxy_histogram_and_dcgm_gauges(sandbox):
    pods = _running(sandbox, "default", "chat")
    assert len(pods) == 2
    later = time.time() + 10
    samples = _samples(sim_metrics.pods_metrics_text(sandbox.store, now=later))
    pod = pods[0]["metadata"]["name"]
    target = (f'namespace="default",pod="{pod}",kn_service_name="chat",kn_configuration_name="chat",'
              f'kn_revision_name="chat-00001"')
    scope = 'otel_scope_name="knative.dev/serving/pkg/queue"'
    ok = f'{target},http_response_status_code="200",{scope}'
    failed = f'{target},http_response_status_code="500",{scope}'
    total = samples[f"kn_serving_invocation_duration_seconds_count{{{ok}}}"] + samples[
        f"kn_serving_invocation_duration_seconds_count{{{failed}}}"]
    assert 10 * sim_metrics.REQUESTS_PER_SECOND - 6 <= total <= 12 * sim_metrics.REQUESTS_PER_SECOND
    buckets = [samples[f'kn_serving_invocation_duration_seconds_bucket{{{ok},le="{b}"}}']
               for b in (*sim_metrics.LATENCY_BOUNDS, "+Inf")]
    assert buckets == sorted(buckets) and buckets[-1] == samples[f"kn_serving_invocation_duration_seconds_count{{{ok}}}"]
    assert samples[f"kn_serving_queue_depth{{{target},{scope}}}"] == round(sim_metrics.in_flight_per_pod())
    gpu = [s for s in samples if s.startswith("DCGM_FI_DEV_GPU_UTIL{") and f'pod="{pod}"' in s]
    assert len(gpu) == 1 and 'modelName="NVIDIA A100-SXM4-80GB"' in gpu[0] and "UUID=\"GPU-" in gpu[0]
    assert 'container="model"' in gpu[0] and 'namespace="default"' in gpu[0]


def test_the_quantile_helper_reads_the_buckets_like_histogram_quantile():
    p95 = sim_metrics.bucket_quantile(0.95)
    true_p95 = sim_metrics.LATENCY_MEDIAN_SECONDS * math.exp(1.6449 * sim_metrics.LATENCY_SIGMA)
    assert 0.25 < p95 < 0.5 and p95 == pytest.approx(true_p95, rel=0.25)  # linear within a wide bucket


def test_the_endpoint_serves_prometheus_text(sandbox):
    _running(sandbox, "default", "chat")
    answer = requests.get(f"{sandbox.url}/metrics/pods", timeout=5)
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/plain")
    assert "# TYPE kn_serving_invocation_duration_seconds histogram" in answer.text
    assert "# TYPE DCGM_FI_DEV_FB_USED gauge" in answer.text
    # Prometheus scrapes pods, not the API server: a scrape, whenever it comes, is not in the API request log.
    assert not [r for r in sandbox.requests if r.path == sim_metrics.METRICS_PATH]
