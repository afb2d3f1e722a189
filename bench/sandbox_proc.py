"""A sandbox cluster in a process of its own, for benchmarks: its CPU is not the measured code's.

`python -m bench.sandbox_proc` prints "ready <kubeconfig>" once listening, then answers commands on
stdin, one per line, each with one line ("ok ..." or "error ..."):
  fill <file.json>        deployments from the file ({"template": ksvc, "pods": P, "deployments":
                          [[namespace, name, team], ...]}): a Ready Knative Service and P Running pods each
  flip <namespace> <name> toggle the Ready condition of that deployment's first pod; answers its ready pods
  churn <per minute>      toggle random pods' Ready at that rate, in this process (0 stops)
  fault <status>|clear    answer every request with that status, or stop
  drop | compact | quit   cut open watches; forget the watch history; exit
"""

import copy
import json
import random
import sys
import tempfile
import threading
import time
from pathlib import Path

from sandbox import SandboxCluster
from sandbox.resources import resource_type
from sandbox.selectors import selector_parse
from sandbox.sim_pods import pod_create, pod_set_phase

PODS = resource_type("pods")


def _fill(store, spec):
    ksvc_rt, ns_rt = resource_type("services.serving.knative.dev"), resource_type("namespaces")
    template, per = spec["template"], spec["pods"]
    container = template["spec"]["template"]["spec"]["containers"][0]
    first_pods = {}
    for namespace in sorted({ns for ns, _, _ in spec["deployments"]}):
        store.create(ns_rt, None, {"metadata": {"name": namespace}})
    for namespace, name, team in spec["deployments"]:
        obj = copy.deepcopy(template)
        labels = {**obj["metadata"].get("labels", {}), "gantry.io/deployment": name, "gantry.io/team": team}
        obj["metadata"].update(name=name, namespace=namespace, labels=labels)
        created = store.create(ksvc_rt, namespace, obj)
        store.replace(ksvc_rt, namespace, name, {"status": {
            "observedGeneration": 1, "url": f"http://{name}.{namespace}.example.com",
            "conditions": [{"type": "Ready", "status": "True"}]}}, subresource="status")
        for i in range(per):
            # A realistic pod: the rendered container whole (env, probes, mounts), as Knative copies it.
            pod = pod_create(store, created, name_prefix=name, labels=labels, containers=[container])
            pod_set_phase(store, pod, "Running")
            if i == 0:
                first_pods[(namespace, name)] = pod["metadata"]["name"]
    return first_pods


def _flip(store, namespace, pod_name):
    pod = store.get(PODS, namespace, pod_name)
    status = pod["status"]
    for condition in status["conditions"]:
        if condition["type"] == "Ready":
            condition["status"] = "False" if condition["status"] == "True" else "True"
    store.patch(PODS, namespace, pod_name, {"status": {"conditions": status["conditions"]}},
                patch_type="merge", subresource="status")


def _ready(store, namespace, name):
    pods = store.objects(PODS, namespace, label_selector=selector_parse(f"gantry.io/deployment={name}"))
    return sum(1 for p in pods for c in p["status"]["conditions"] if c["type"] == "Ready" and c["status"] == "True")


class Churn(threading.Thread):
    def __init__(self, store, pods):
        super().__init__(daemon=True)
        self.store, self.pods, self.rate = store, pods, 0.0

    def run(self):
        while True:
            if self.rate <= 0:
                time.sleep(0.1)
                continue
            namespace, name = random.choice(self.pods)
            _flip(self.store, namespace, name)
            time.sleep(60.0 / self.rate)


def main():
    workdir = Path(tempfile.mkdtemp(prefix="gantry-bench-sandbox-"))
    cluster = SandboxCluster(kubeconfig_path=str(workdir / "kubeconfig")).start()
    store, first_pods, churn = cluster.store, {}, None
    print(f"ready {cluster.kubeconfig_path}", flush=True)
    for line in sys.stdin:
        words = line.split()
        try:
            if not words:
                continue
            if words[0] == "fill":
                started = time.perf_counter()
                first_pods = _fill(store, json.loads(Path(words[1]).read_text()))
                churn = Churn(store, [(p["metadata"]["namespace"], p["metadata"]["name"])
                                      for p in store.objects(PODS)])
                churn.start()
                print(f"ok {time.perf_counter() - started:.1f}", flush=True)
            elif words[0] == "flip":
                _flip(store, words[1], first_pods[(words[1], words[2])])
                print(f"ok {_ready(store, words[1], words[2])}", flush=True)
            elif words[0] == "churn":
                churn.rate = float(words[1])
                print("ok", flush=True)
            elif words[0] == "fault":
                cluster.faults_clear()
                if words[1] != "clear":
                    cluster.fail_next("*", r".*", status=int(words[1]), times=None)
                print("ok", flush=True)
            elif words[0] == "drop":
                cluster.watches_drop()
                print("ok", flush=True)
            elif words[0] == "compact":
                cluster.compact()
                print("ok", flush=True)
            elif words[0] == "quit":
                break
            else:
                print(f"error unknown command {words[0]}", flush=True)
        except Exception as exc:  # noqa: BLE001 (reported to the driver, which stops the benchmark)
            print(f"error {type(exc).__name__}: {exc}", flush=True)
    cluster.stop()


class Driver:
    """The benchmark's side: start the process, send commands, stop it."""

    def __init__(self):
        import subprocess

        self.proc = subprocess.Popen([sys.executable, "-m", "bench.sandbox_proc"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, bufsize=1)
        first = self.proc.stdout.readline().split()
        if not first or first[0] != "ready":
            raise RuntimeError(f"the bench sandbox did not start: {first}")
        self.kubeconfig = first[1]

    def send(self, *words):
        self.proc.stdin.write(" ".join(str(w) for w in words) + "\n")
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline().strip()
        if not answer.startswith("ok"):
            raise RuntimeError(f"bench sandbox: {' '.join(map(str, words))}: {answer}")
        return answer

    def stop(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write("quit\n")
                self.proc.stdin.flush()
                self.proc.wait(10)
            except Exception:  # noqa: BLE001
                self.proc.kill()


if __name__ == "__main__":
    main()
