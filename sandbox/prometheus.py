"""A real Prometheus (Debian's `prometheus` package, installed by scripts/install.sh) scraping the
sandbox clusters' simulated pods (`/metrics/pods`, see sim_metrics.py), for the tests and `make run`.

    python -m sandbox.prometheus --sandbox default=http://127.0.0.1:8001 \
        --sandbox sandbox-b=http://127.0.0.1:8002 --port 9090 --interval 5s

Each target's series carry a `cluster` label (the Cluster record's name; "default" for KUBECONFIG's
cluster): a deployment moving between clusters is served from both for a while, and the request
metrics' queries (deployments/selectors_metrics.py) sum over its pods wherever they run.

Flags are those of Prometheus 2.42 (`prometheus --help`): --config.file, --storage.tsdb.path,
--web.listen-address; readiness is GET /-/ready. The configuration file's shape (scrape_configs,
static_configs with targets and labels, honor_labels) is Prometheus 2.42's
docs/configuration/configuration.md; `promtool check config` accepts what config_text writes.
"""

import argparse
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import yaml

BINARY = "prometheus"
INSTALL_HINT = ("Prometheus is not installed: run scripts/install.sh (or `apt-get install prometheus`, "
                "Debian's package) so that `prometheus` is on the PATH")
JOB = "sandbox-pods"
CLUSTER_LABEL = "cluster"
DEFAULT_CLUSTER = "default"  # what clusters.selectors.cluster_name calls KUBECONFIG's cluster


class PrometheusMissing(RuntimeError):
    pass


def scrape_targets(values):
    """[(cluster, url)] from `--sandbox` values, each `URL` or `CLUSTER=URL`; ValueError names the fix."""
    targets = []
    for value in [values] if isinstance(values, str) else values:
        cluster, _, url = value.partition("=") if "=" in value.split("://", 1)[0] else ("", "", value)
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"--sandbox {value!r}: use URL or CLUSTER=URL, e.g. sandbox-b=http://127.0.0.1:8002")
        targets.append((cluster or DEFAULT_CLUSTER, url))
    names = [cluster for cluster, _ in targets]
    if not targets or len(set(names)) != len(names):
        raise ValueError(f"--sandbox: give each sandbox its own cluster name (CLUSTER=URL); got {names}")
    if len({urlsplit(url).scheme for _, url in targets}) > 1:
        raise ValueError("--sandbox: every sandbox must use the same scheme (one scrape job)")
    return targets


def config_text(sandboxes, interval="5s"):
    """prometheus.yml: one job scraping every simulated pod's series from each sandbox, labelled with its cluster.

    honor_labels keeps the pods' own `namespace` and `pod` labels (one target stands for every pod);
    `cluster` and `instance` tell the sandboxes apart.
    """
    targets = scrape_targets(sandboxes)
    job = {"job_name": JOB, "scheme": urlsplit(targets[0][1]).scheme, "metrics_path": "/metrics/pods",
           "scrape_interval": interval, "scrape_timeout": interval, "honor_labels": True,
           "static_configs": [{"targets": [urlsplit(url).netloc], "labels": {CLUSTER_LABEL: cluster}}
                              for cluster, url in targets]}
    config = {"global": {"scrape_interval": interval, "evaluation_interval": interval}, "scrape_configs": [job]}
    return yaml.safe_dump(config, sort_keys=False)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PrometheusServer:
    """Writes the config into a temporary directory, starts Prometheus, waits for /-/ready."""

    def __init__(self, sandboxes, *, interval="5s", port=None, data_dir=None):
        """`sandboxes`: one URL, or several `URL` / `CLUSTER=URL` (scrape_targets)."""
        self.sandboxes = [sandboxes] if isinstance(sandboxes, str) else list(sandboxes)
        self.targets, self.interval = scrape_targets(self.sandboxes), interval
        self.port = port or free_port()
        self._data_dir = data_dir
        self._tmp = None
        self.process = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout=20.0):
        binary = shutil.which(BINARY)
        if binary is None:
            raise PrometheusMissing(INSTALL_HINT)
        self._tmp = tempfile.TemporaryDirectory(prefix="gantry-prometheus-")
        root = Path(self._tmp.name)
        (root / "prometheus.yml").write_text(config_text(self.sandboxes, self.interval), encoding="utf-8")
        self.log_path = root / "prometheus.log"
        self.process = subprocess.Popen(
            [binary, f"--config.file={root / 'prometheus.yml'}",
             f"--storage.tsdb.path={self._data_dir or root / 'data'}",
             f"--web.listen-address=127.0.0.1:{self.port}", "--log.level=warn"],
            stdout=subprocess.DEVNULL, stderr=self.log_path.open("wb"))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                log = self.log_path.read_text(errors="replace")[-2000:]
                self.stop()
                raise RuntimeError(f"prometheus exited with {self.process.returncode}: {log}")
            try:
                with urllib.request.urlopen(f"{self.url}/-/ready", timeout=1) as answer:
                    if answer.status == 200:
                        return self
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"prometheus was not ready on {self.url} within {timeout:g} s")

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m sandbox.prometheus", description=__doc__.splitlines()[0])
    parser.add_argument("--sandbox", action="append", metavar="[CLUSTER=]URL",
                        help="a sandbox API to scrape, its series labelled cluster=CLUSTER (default: "
                             f"{DEFAULT_CLUSTER}); repeat for each cluster (default: http://127.0.0.1:8001)")
    parser.add_argument("--port", type=int, default=9090)
    parser.add_argument("--interval", default="5s", help="scrape interval")
    parser.add_argument("--data", default=".sandbox/prometheus", help="TSDB directory (kept between runs)")
    args = parser.parse_args(argv)
    sandboxes = args.sandbox or ["http://127.0.0.1:8001"]
    try:
        targets = scrape_targets(sandboxes)
    except ValueError as exc:
        parser.error(str(exc))
    stopping = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopping.set())
    try:
        server = PrometheusServer(sandboxes, interval=args.interval, port=args.port, data_dir=args.data).start()
    except PrometheusMissing as exc:
        parser.exit(2, f"{exc}\n")
    scraped = ", ".join(f"{url}/metrics/pods ({CLUSTER_LABEL}={cluster})" for cluster, url in targets)
    print(f"prometheus on {server.url}, scraping {scraped} every {args.interval}", flush=True)
    try:
        while not stopping.wait(1):
            if server.process.poll() is not None:
                return server.process.returncode
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
