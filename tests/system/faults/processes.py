"""Real Redis and PostgreSQL server processes owned by one test, to stop and start at will.

Never the machine's own servers: other engineers and CI use those at the same time.
"""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

START_TIMEOUT = 15


def port_free():
    """A free TCP port on 127.0.0.1 (never 8000-8010, reserved for the demo)."""
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if not 8000 <= port <= 8010:
            return port


def port_wait(port, *, up=True, timeout=START_TIMEOUT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                if up:
                    return
        except OSError:
            if not up:
                return
        time.sleep(0.05)
    raise RuntimeError(f"port {port} still {'closed' if up else 'open'} after {timeout}s")


class RedisServer:
    """`redis-server` on a port of its own; stop() kills it (SIGKILL), start() brings it back on the same port."""

    def __init__(self):
        self.port = port_free()
        self.proc = None
        self.workdir = Path(tempfile.mkdtemp(prefix="gantry-faults-redis-"))

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        self.proc = subprocess.Popen(
            [shutil.which("redis-server") or "redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--daemonize", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        port_wait(self.port)
        return self

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)  # a crash, not a polite shutdown
            self.proc.wait(10)
        self.proc = None
        port_wait(self.port, up=False)

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)


def _pg_bin(name):
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
    if not versions:
        raise RuntimeError("no PostgreSQL server binaries under /usr/lib/postgresql")
    return str(versions[-1] / name)


class PostgresServer:
    """A throwaway PostgreSQL cluster in a temp dir (run as the postgres user: initdb refuses root)."""

    def __init__(self):
        self.port = port_free()
        self.workdir = Path(tempfile.mkdtemp(prefix="gantry-faults-pg-"))
        self.datadir = self.workdir / "data"
        self.as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_postgres:
            shutil.chown(self.workdir, "postgres")

    def _run(self, *args):
        subprocess.run([*self.as_postgres, *args], check=True, capture_output=True, timeout=60)

    def _options(self):
        return (f"-p {self.port} -k {self.workdir} -c listen_addresses=127.0.0.1 "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off")

    def init(self):
        self._run(_pg_bin("initdb"), "-D", str(self.datadir), "-A", "trust", "-U", "postgres", "-E", "UTF8",
                  "--no-sync")
        return self.start()

    def start(self):
        self._run(_pg_bin("pg_ctl"), "-D", str(self.datadir), "-o", self._options(), "-l",
                  str(self.workdir / "log"), "-w", "-t", str(START_TIMEOUT), "start")
        return self

    def stop(self, mode="fast"):
        self._run(_pg_bin("pg_ctl"), "-D", str(self.datadir), "-m", mode, "-w", "stop")

    def restart(self):
        """What clients see of a restart: every connection terminated, then the server accepts new ones."""
        self.stop()
        self.start()

    def cleanup(self):
        try:
            self.stop(mode="immediate")
        except subprocess.CalledProcessError:
            pass  # already stopped
        shutil.rmtree(self.workdir, ignore_errors=True)

    def database_copy(self, *, source_url, name):
        """Create `name` here as a copy (schema and rows) of the database at source_url."""
        subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-q", "-c",
                        f'DROP DATABASE IF EXISTS "{name}"', "-c", f'CREATE DATABASE "{name}"'],
                       check=True, capture_output=True, timeout=30)
        dump = subprocess.run([_pg_bin("pg_dump"), "--no-owner", "--no-privileges", source_url],
                              check=True, capture_output=True, timeout=60)
        subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-q",
                        "-v", "ON_ERROR_STOP=1", name], input=dump.stdout, check=True, capture_output=True,
                       timeout=60)
