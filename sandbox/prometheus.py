"""A real Prometheus (Debian's `prometheus` package, installed by scripts/install.sh) scraping the
sandbox's simulated pods (`/metrics/pods`, see sim_metrics.py), for the tests and `make run`.

    python -m sandbox.prometheus --sandbox http://127.0.0.1:8001 --port 9090 --interval 5s

Flags are those of Prometheus 2.42 (`prometheus --help`): --config.file, --storage.tsdb.path,
--web.listen-address; readiness is GET /-/ready.
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

BINARY = "prometheus"
INSTALL_HINT = ("Prometheus is not installed: run scripts/install.sh (or `apt-get install prometheus`, "
                "Debian's package) so that `prometheus` is on the PATH")
JOB = "sandbox-pods"


class PrometheusMissing(RuntimeError):
    pass


def config_text(sandbox_url, interval="5s"):
    """prometheus.yml: one job scraping every simulated pod's series from the sandbox."""
    parts = urlsplit(sandbox_url)
    return (f"global:\n  scrape_interval: {interval}\n  evaluation_interval: {interval}\n"
            f"scrape_configs:\n  - job_name: {JOB}\n    scheme: {parts.scheme or 'http'}\n"
            f"    metrics_path: /metrics/pods\n    scrape_interval: {interval}\n"
            f"    scrape_timeout: {interval}\n    honor_labels: true\n"
            f"    static_configs:\n      - targets: ['{parts.netloc}']\n")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PrometheusServer:
    """Writes the config into a temporary directory, starts Prometheus, waits for /-/ready."""

    def __init__(self, sandbox_url, *, interval="5s", port=None, data_dir=None):
        self.sandbox_url, self.interval = sandbox_url, interval
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
        (root / "prometheus.yml").write_text(config_text(self.sandbox_url, self.interval), encoding="utf-8")
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
    parser.add_argument("--sandbox", default="http://127.0.0.1:8001", help="the sandbox API to scrape")
    parser.add_argument("--port", type=int, default=9090)
    parser.add_argument("--interval", default="5s", help="scrape interval")
    parser.add_argument("--data", default=".sandbox/prometheus", help="TSDB directory (kept between runs)")
    args = parser.parse_args(argv)
    stopping = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopping.set())
    try:
        server = PrometheusServer(args.sandbox, interval=args.interval, port=args.port, data_dir=args.data).start()
    except PrometheusMissing as exc:
        parser.exit(2, f"{exc}\n")
    print(f"prometheus on {server.url}, scraping {args.sandbox}/metrics/pods every {args.interval}", flush=True)
    try:
        while not stopping.wait(1):
            if server.process.poll() is not None:
                return server.process.returncode
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
