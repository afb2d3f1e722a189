"""A real OpenID Connect provider for the single sign-on tests, and Gantry's settings pointed at it.

- `oidc_provider`: tests/oidc_provider.mjs (npm oidc-provider) on a free loopback port, its one client
  registered with the live server's callback; `oidc_provider.accounts_set({...})` sets who exists and
  with which claims (groups included), read again at every login.
- `sso`: the settings that turn single sign-on on against it (staff group `gantry-platform`).

Import both into a test module (`from tests.oidc_fixtures import oidc_provider, sso  # noqa: F401`).
"""

import json
import socket
import subprocess
from pathlib import Path

import pytest

from tests.cluster_helpers import wait_for

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "tests" / "oidc_provider.mjs"
CLIENT_ID, CLIENT_SECRET = "gantry-tests", "gantry-tests-secret"
STAFF_GROUP = "gantry-platform"


class OidcProvider:
    def __init__(self, issuer, accounts_path):
        self.issuer = issuer
        self.accounts_path = accounts_path

    def accounts_set(self, accounts):
        """{login: {claims}}: e.g. {"alice": {"email": ..., "preferred_username": "alice", "groups": [...]}}."""
        self.accounts_path.write_text(json.dumps(accounts))


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def oidc_provider(live_server, tmp_path):
    if not (ROOT / "node_modules" / "oidc-provider").is_dir():
        pytest.fail("npm's oidc-provider is missing: run `make install` (npm ci installs package.json's devDependencies)")
    port = _free_port()
    accounts = tmp_path / "accounts.json"
    accounts.write_text("{}")
    log = tmp_path / "oidc-provider.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            ["node", str(SCRIPT), str(port), str(accounts), CLIENT_ID, CLIENT_SECRET,
             f"{live_server.url}/oidc/callback/"],
            cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    try:
        def started():
            if process.poll() is not None:
                pytest.fail(f"the OIDC provider exited:\n{log.read_text()}")
            return "ready " in log.read_text()

        wait_for(started, timeout=20, interval=0.05, message=f"the OIDC provider to start (its log: {log})")
        yield OidcProvider(f"http://127.0.0.1:{port}", accounts)
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def sso(settings, oidc_provider):
    """Single sign-on on, against the test provider; local passwords still allowed (LOCAL_LOGIN=1)."""
    settings.OIDC_ISSUER = oidc_provider.issuer
    settings.OIDC_RP_CLIENT_ID = CLIENT_ID
    settings.OIDC_RP_CLIENT_SECRET = CLIENT_SECRET
    settings.OIDC_STAFF_GROUP = STAFF_GROUP
    settings.AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend", "teams.sso.SsoBackend"]
    return oidc_provider
