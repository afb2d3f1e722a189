"""The real kubectl against `python -m sandbox`: one sandbox process for the module, each kubectl
call bounded (a hung watch or a retry loop must fail the test, not stall the suite)."""

import contextlib
import os
import re
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
KUBECTL_TIMEOUT = 20


def output_until(proc, text, seconds):
    """Read the process's output until a line contains `text`: the lines read so far. Waits on the pipe
    (select), never a fixed sleep; AssertionError with what was printed when the deadline passes first.

    The process must be started with `bufsize=0` and without `text=True`: a buffered reader takes more
    than one line from the pipe, and select() then no longer sees the lines it holds.
    """
    deadline, lines = time.monotonic() + seconds, []
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        while not lines or text not in lines[-1]:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not selector.select(timeout=remaining):
                raise AssertionError(f"no line with {text!r} within {seconds} s; output: {''.join(lines)!r}")
            line = proc.stdout.readline().decode()  # unbuffered: reads up to the newline, no further
            if not line:  # the process ended
                raise AssertionError(f"the process ended before printing {text!r}; output: {''.join(lines)!r}")
            lines.append(line)
    return lines


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def kubectl_sandbox(tmp_path_factory):
    """(url, kubeconfig path) of a running `python -m sandbox` with its simulator."""
    if shutil.which("kubectl") is None:
        pytest.fail("kubectl is not installed: this suite needs the real client "
                    "(Debian package kubernetes-client, or /usr/bin/kubectl)")
    with sandbox_process(tmp_path_factory.mktemp("kubectl"), ["--time-scale", "60", "--tick", "0.2"],
                         ready="kubeconfig written to") as running:
        yield running


@contextlib.contextmanager
def sandbox_process(tmp, args, *, ready):
    """`python -m sandbox` with `args` on a free port until the block ends: (url, kubeconfig path). `ready`: the
    line sandbox/__main__.py logs once the API listens and the kubeconfig is written."""
    kubeconfig, port = tmp / "kubeconfig", _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "sandbox", "--port", str(port), "--kubeconfig", str(kubeconfig),
                             *args],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, bufsize=0,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    url = f"http://127.0.0.1:{port}"
    try:
        output_until(proc, ready, seconds=15)
    except AssertionError as exc:
        proc.kill()
        pytest.fail(f"python -m sandbox did not become ready: {exc}")
    assert urllib.request.urlopen(f"{url}/readyz", timeout=2).read() == b"ok"
    try:
        yield url, kubeconfig
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def kubectl(kubectl_sandbox, tmp_path_factory):
    """kubectl("get", "pods", "-n", ns) -> CompletedProcess; check=True raises with kubectl's stderr."""
    _, kubeconfig = kubectl_sandbox
    cache = tmp_path_factory.mktemp("kube-cache")  # no discovery cache shared with another server

    base = ["kubectl", "--kubeconfig", str(kubeconfig), "--cache-dir", str(cache)]

    def run(*args, check=True, stdin=None, timeout=KUBECTL_TIMEOUT):
        command = [*base, *args]
        result = subprocess.run(command, input=stdin, capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"{' '.join(args)} failed ({result.returncode}):\n{result.stderr}{result.stdout}")
        return result

    run.base = base
    return run


def table_rows(output):
    """kubectl's table output as a list of {COLUMN: value} (columns split on runs of 2+ spaces)."""
    lines = [line for line in output.splitlines() if line.strip()]
    header = lines[0]
    starts = [i for i, ch in enumerate(header) if ch != " " and (i == 0 or header[max(i - 2, 0):i] == "  ")]
    names = re.split(r"\s{2,}", header.strip())
    rows = []
    for line in lines[1:]:
        cells = [line[a:b].strip() for a, b in zip(starts, starts[1:] + [None])]
        rows.append(dict(zip(names, cells)))
    return rows
