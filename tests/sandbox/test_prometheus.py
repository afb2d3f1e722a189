"""sandbox/prometheus.py: one real Prometheus scraping several sandbox clusters, each series labelled with its
cluster, with a configuration Debian's Prometheus 2.42 accepts."""

import subprocess

import pytest
import requests
import yaml

from sandbox import prometheus, sim_metrics
from sandbox.resources import resource_type
from tests.cluster_helpers import wait_for

pytestmark = pytest.mark.timeout(60)

KSVC = "services.serving.knative.dev"


def _ksvc(name):
    return {"apiVersion": "serving.knative.dev/v1", "kind": "Service", "metadata": {"name": name},
            "spec": {"template": {"metadata": {"annotations": {
                "autoscaling.knative.dev/min-scale": "1", "autoscaling.knative.dev/max-scale": "1"}},
                "spec": {"containers": [{"name": "model", "image": "vllm/vllm-openai:v0.11.0",
                                         "resources": {"limits": {"nvidia.com/gpu": "1"}}}]}}}}


def _serving(sandbox, namespace, name):
    sandbox.store.create(resource_type(KSVC), namespace, _ksvc(name))
    for _ in range(3):
        sandbox.simulator.tick()
        sandbox.simulator.advance(30)
    sandbox.simulator.tick()


def _query(server, promql):
    answer = requests.get(f"{server.url}/api/v1/query", params={"query": promql}, timeout=5).json()
    assert answer["status"] == "success", answer
    return {tuple(sorted(r["metric"].items())): float(r["value"][1]) for r in answer["data"]["result"]}


def test_the_config_names_each_sandbox_as_its_cluster_and_promtool_accepts_it(tmp_path):
    text = prometheus.config_text(["default=http://127.0.0.1:8001", "sandbox-b=http://127.0.0.1:8002"], "5s")
    path = tmp_path / "prometheus.yml"
    path.write_text(text)

    checked = subprocess.run(["promtool", "check", "config", str(path)], capture_output=True, text=True)

    assert checked.returncode == 0, checked.stdout + checked.stderr
    (job,) = yaml.safe_load(text)["scrape_configs"]
    assert job["metrics_path"] == "/metrics/pods" and job["honor_labels"] is True
    assert job["static_configs"] == [{"targets": ["127.0.0.1:8001"], "labels": {"cluster": "default"}},
                                     {"targets": ["127.0.0.1:8002"], "labels": {"cluster": "sandbox-b"}}]


def test_one_bare_url_is_the_default_cluster_as_before():
    assert prometheus.scrape_targets("http://127.0.0.1:8001") == [("default", "http://127.0.0.1:8001")]


@pytest.mark.parametrize("flags, says", [
    (["--sandbox", "127.0.0.1:8001"], "use URL or CLUSTER=URL"),
    (["--sandbox", "http://127.0.0.1:8001", "--sandbox", "http://127.0.0.1:8002"], "its own cluster name"),
    (["--sandbox", "a=http://127.0.0.1:8001", "--sandbox", "b=https://127.0.0.1:8002"], "same scheme"),
])
def test_bad_sandbox_flags_are_refused_saying_what_to_write(flags, says, capsys):
    with pytest.raises(SystemExit) as exit_:
        prometheus.main([*flags, "--port", "0"])
    assert exit_.value.code == 2
    assert says in capsys.readouterr().err


def test_both_clusters_are_scraped_and_the_same_pods_name_on_each_stays_its_own_series(sandbox, sandbox_b):
    # A deployment moving between clusters runs under one namespace and name on both for a while.
    _serving(sandbox, "default", "chat")
    _serving(sandbox_b, "default", "chat")
    with prometheus.PrometheusServer([f"default={sandbox.url}", f"sandbox-b={sandbox_b.url}"],
                                     interval="1s") as server:
        up = wait_for(lambda: (found := _query(server, "up == 1")) and len(found) == 2 and found,
                      timeout=20, interval=0.25, message="both sandboxes scraped")
        assert {dict(labels)["cluster"] for labels in up} == {"default", "sandbox-b"}

        depth = 'kn_serving_queue_depth{namespace="default",kn_service_name="chat"}'
        by_cluster = wait_for(lambda: (found := _query(server, f"sum by (cluster) ({depth})")) and len(found) == 2
                              and found, timeout=20, interval=0.25, message="the pods of both clusters")
        per_pod = round(sim_metrics.in_flight_per_pod())
        assert by_cluster == {(("cluster", "default"),): per_pod, (("cluster", "sandbox-b"),): per_pod}
        # What the deployment page asks (deployments/selectors_metrics.py) adds both clusters' pods up.
        assert _query(server, f"sum({depth})") == {(): 2 * per_pod}
