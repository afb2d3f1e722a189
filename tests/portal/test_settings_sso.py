"""Single sign-on settings: a half-configured SSO, or no way to log in at all, stops start-up with the fix."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SSO = {"OIDC_ISSUER": "https://idp.example.com", "OIDC_CLIENT_ID": "gantry"}


def _check(extra_env, command=("check",)):
    base = {k: v for k, v in os.environ.items() if not k.startswith(("OIDC_", "LOCAL_LOGIN"))}
    return subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env={**base, "DEBUG": "1", **extra_env},
                          capture_output=True, text=True, timeout=60)


@pytest.mark.timeout(120)
def test_sso_settings_are_checked_at_start_up(tmp_path):
    result = _check({"LOCAL_LOGIN": "0"})
    assert result.returncode != 0 and "LOCAL_LOGIN=0 leaves no way to log in: set OIDC_ISSUER" in result.stderr

    result = _check(SSO)
    assert result.returncode != 0 and "OIDC_CLIENT_SECRET is required with OIDC_ISSUER" in result.stderr

    secret = tmp_path / "oidc-secret"
    secret.write_text("from-a-mounted-file\n")
    result = _check({**SSO, "OIDC_CLIENT_SECRET_FILE": str(secret), "LOCAL_LOGIN": "0"}, command=(
        "shell", "-c", "from django.conf import settings as s; print(s.OIDC_RP_CLIENT_SECRET, s.AUTHENTICATION_BACKENDS)"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "from-a-mounted-file ['teams.sso.SsoBackend']"  # and no password backend
