"""Settings parsing: bad environment values stop start-up with the variable's name."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from portal import env

ROOT = Path(__file__).resolve().parents[2]


def test_database_url_parsed_into_postgres_settings():
    db = env.parse_database_url("DATABASE_URL", "postgres://app:s%40cret@db.internal:6543/gantry_prod")
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["NAME"], db["USER"], db["PASSWORD"], db["HOST"], db["PORT"]) == (
        "gantry_prod", "app", "s@cret", "db.internal", "6543")


@pytest.mark.parametrize("url", ["sqlite:///db.sqlite3", "mysql://root@localhost/gantry"])
def test_database_url_other_than_postgres_is_refused(url):
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL.*only PostgreSQL"):
        env.parse_database_url("DATABASE_URL", url)


def test_database_url_without_name_is_refused():
    with pytest.raises(ImproperlyConfigured, match="names no database"):
        env.parse_database_url("DATABASE_URL", "postgres://127.0.0.1:5432")


@pytest.mark.parametrize(
    ("helper", "raw", "message"),
    [
        (lambda: env.env_bool("GANTRY_T"), "maybe", "GANTRY_T='maybe' is not a boolean"),
        (lambda: env.env_int("GANTRY_T", 1), "ten", "GANTRY_T='ten' is not an integer"),
        (lambda: env.env_int("GANTRY_T", 1, minimum=1), "0", "GANTRY_T=0 must be at least 1"),
        (lambda: env.env_float("GANTRY_T", 1.0), "fast", "GANTRY_T='fast' is not a number"),
    ],
)
def test_bad_values_name_the_variable(monkeypatch, helper, raw, message):
    monkeypatch.setenv("GANTRY_T", raw)
    with pytest.raises(ImproperlyConfigured) as info:
        helper()
    assert message in str(info.value)


def test_secret_can_come_from_a_file(monkeypatch, tmp_path):
    secret = tmp_path / "key"
    secret.write_text("from-a-file\n")
    monkeypatch.setenv("GANTRY_T_FILE", str(secret))
    assert env.env_str("GANTRY_T") == "from-a-file"


def test_list_values_are_split_and_trimmed(monkeypatch):
    monkeypatch.setenv("GANTRY_T", "a.example.com, b.example.com ,")
    assert env.env_list("GANTRY_T", []) == ["a.example.com", "b.example.com"]


def _start(extra_env):
    base = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "SECRET_KEY", "DATABASE_URL")}
    return subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env={**base, **extra_env},
        capture_output=True, text=True, timeout=60,
    )


@pytest.mark.timeout(90)
def test_startup_refuses_missing_secret_key_in_production():
    result = _start({"DEBUG": "0"})
    assert result.returncode != 0
    assert "SECRET_KEY is required" in result.stderr


@pytest.mark.timeout(90)
def test_startup_refuses_malformed_values_with_the_variable_name():
    result = _start({"DEBUG": "1", "SYNC_INTERVAL_SECONDS": "often"})
    assert result.returncode != 0
    assert "SYNC_INTERVAL_SECONDS='often' is not a number" in result.stderr
    result = _start({"DEBUG": "1", "DATABASE_URL": "sqlite:///x.db"})
    assert "only PostgreSQL is supported" in result.stderr


def test_outside_debug_static_files_are_served_hashed_and_compressed_and_a_bad_status_sync_is_refused():
    """The image runs collectstatic with DEBUG off: whitenoise's manifest storage names files by their hash
    and stores compressed copies; STATUS_SYNC takes only the two modes, named in the error."""
    code = ("import django, os; django.setup(); from django.conf import settings; "
            "print(settings.STORAGES['staticfiles']['BACKEND'])")
    env_prod = {**os.environ, "DEBUG": "0", "SECRET_KEY": "x" * 50, "DJANGO_SETTINGS_MODULE": "portal.settings"}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env_prod, capture_output=True, text=True)
    assert out.stdout.strip() == "whitenoise.storage.CompressedManifestStaticFilesStorage", out.stderr[-2000:]
    bad = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**env_prod, "STATUS_SYNC": "poll"},
                         capture_output=True, text=True)
    assert bad.returncode != 0 and "STATUS_SYNC is 'poll': set it to watch (the default) or list" in bad.stderr
