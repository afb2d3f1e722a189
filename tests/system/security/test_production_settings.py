"""Production settings: `check --deploy` is clean, cookies are secure, HSTS and a CSP are sent, logins throttle."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.cache import cache

ROOT = Path(__file__).resolve().parents[3]
HOST = "gantry.example.com"


def production_env():
    env = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "SECURE_HTTPS", "SECURE_HSTS_SECONDS",
                                                             "SECURE_SSL_REDIRECT",
                                                             # set by the browser fixtures for Playwright
                                                             "DJANGO_ALLOW_ASYNC_UNSAFE")}
    env.update(DEBUG="0", SECRET_KEY=secrets.token_urlsafe(64), ALLOWED_HOSTS=HOST,
               CSRF_TRUSTED_ORIGINS=f"https://{HOST}", DJANGO_SETTINGS_MODULE="portal.settings")
    return env


def run(args, **kwargs):
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=production_env(), capture_output=True, text=True,
                          timeout=60, **kwargs)


@pytest.mark.timeout(90)
def test_check_deploy_is_clean_with_production_settings():
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout, result.stdout + result.stderr


PROBE = f"""
import json, django
django.setup()
from django.test import Client
client = Client(HTTP_HOST="{HOST}")
plain = client.get("/login/")
page = client.get("/login/", secure=True)
cookie = page.cookies["csrftoken"]
print(json.dumps({{
    "plain_status": plain.status_code, "plain_location": plain.get("Location", ""),
    "status": page.status_code, "hsts": page.get("Strict-Transport-Security", ""),
    "csp": page.get("Content-Security-Policy", ""), "frame": page.get("X-Frame-Options", ""),
    "nosniff": page.get("X-Content-Type-Options", ""),
    "csrf_secure": bool(cookie["secure"]),
    "session_secure": __import__("django.conf").conf.settings.SESSION_COOKIE_SECURE,
    "session_httponly": __import__("django.conf").conf.settings.SESSION_COOKIE_HTTPONLY,
}}))
"""


@pytest.mark.timeout(90)
def test_production_responses_carry_hsts_secure_cookies_and_https_redirect():
    result = run(["-c", PROBE])
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["plain_status"] == 301 and seen["plain_location"] == f"https://{HOST}/login/"
    assert seen["status"] == 200
    assert "max-age=31536000" in seen["hsts"] and "includeSubDomains" in seen["hsts"]
    assert seen["csrf_secure"] and seen["session_secure"] and seen["session_httponly"]
    assert seen["frame"] == "DENY" and seen["nosniff"] == "nosniff"
    assert "script-src 'self'" in seen["csp"]


@pytest.mark.parametrize("path", ["/login/", "/", "/catalog/", "/api/docs/"])
def test_pages_send_a_content_security_policy_without_inline_scripts(path, login, owner):
    response = login(owner).get(path)
    assert response.status_code == 200
    policy = {d.split()[0]: d.split()[1:] for d in response["Content-Security-Policy"].split("; ")}
    assert policy["script-src"] == ["'self'"]
    assert "'unsafe-inline'" not in policy["script-src"] and "'unsafe-eval'" not in policy["script-src"]
    assert policy["frame-ancestors"] == ["'none'"]


@pytest.fixture
def clean_throttle():
    keys = ["login-fail:addr:198.51.100.7", *[f"login-fail:user:user-{i}" for i in range(6)],
            "login-fail:user:vic-viewer"]
    cache.delete_many(keys)
    yield
    cache.delete_many(keys)


def test_one_address_guessing_many_usernames_is_locked_out(client, viewer, settings, clean_throttle):
    """Spraying passwords across usernames from one address trips the address lockout, not just per user."""
    settings.LOGIN_FAILURE_LIMIT = 3
    address = {"REMOTE_ADDR": "198.51.100.7"}
    for i in range(3):
        response = client.post("/login/", {"username": f"user-{i}", "password": "guess"}, **address)
        assert response.status_code == 200
    locked = client.post("/login/", {"username": "vic-viewer", "password": "pw-for-tests-1"}, **address)
    assert locked.status_code == 429
    assert "Too many failed attempts" in locked.content.decode()
    assert "_auth_user_id" not in client.session
    # The same user from another address is not punished for the attacker's address.
    other = client.post("/login/", {"username": "vic-viewer", "password": "pw-for-tests-1"},
                        REMOTE_ADDR="203.0.113.9")
    assert other.status_code == 302
