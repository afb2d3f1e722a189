"""DATABASE_URL's query parameters reach PostgreSQL (sslmode, application_name, connect_timeout ...), and a
bad URL still stops start-up with the variable's name (tests/portal/test_settings.py has the older cases)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from portal import env

ROOT = Path(__file__).resolve().parents[2]
SHOW = ("from django.db import connection\n"
        "with connection.cursor() as c:\n"
        "    c.execute('SELECT current_setting(%s), ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()',"
        " ['application_name'])\n"
        "    print(*c.fetchone())")


def _shell(url):
    environ = {**os.environ, "DEBUG": "1", "SECURE_HTTPS": "0", "DATABASE_URL": url}
    return subprocess.run([sys.executable, "manage.py", "shell", "-c", SHOW], cwd=ROOT, env=environ,
                          capture_output=True, text=True, timeout=60)


def test_query_parameters_become_connection_options():
    db = env.parse_database_url(
        "DATABASE_URL", "postgres://app:s%40cret@db.internal:6543/gantry?sslmode=verify-full"
                        "&sslrootcert=/etc/gantry/ca.pem&connect_timeout=10")
    assert (db["NAME"], db["USER"], db["PASSWORD"], db["HOST"], db["PORT"]) == (
        "gantry", "app", "s@cret", "db.internal", "6543")
    assert db["OPTIONS"] == {"sslmode": "verify-full", "sslrootcert": "/etc/gantry/ca.pem", "connect_timeout": 10}


def test_a_url_without_parameters_keeps_the_defaults():
    db = env.parse_database_url("DATABASE_URL", "postgres:///gantry")
    assert (db["USER"], db["HOST"], db["PORT"], db["OPTIONS"]) == ("postgres", "127.0.0.1", "5432",
                                                                   {"connect_timeout": 5})


def test_a_socket_directory_in_the_query_is_not_overridden():
    db = env.parse_database_url("DATABASE_URL", "postgresql:///gantry?host=/run/postgresql")
    assert db["HOST"] == "" and db["OPTIONS"]["host"] == "/run/postgresql"


@pytest.mark.parametrize(("url", "message"), [
    ("postgres://db:99999/gantry", "has an invalid port"),
    ("postgres://db:port/gantry", "has an invalid port"),
    ("postgres://db:5432/?sslmode=require", "names no database; add /dbname at the end"),
    ("mysql://db/gantry", "only PostgreSQL is supported"),
])
def test_bad_urls_name_the_variable_and_the_fix(url, message):
    with pytest.raises(ImproperlyConfigured, match=rf"^DATABASE_URL='.*{message}"):
        env.parse_database_url("DATABASE_URL", url)


@pytest.mark.slow
@pytest.mark.timeout(90)
def test_the_portal_connects_with_the_urls_parameters():
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/gantry").split("?")[0]
    server = base.rsplit("/", 1)[0] + "/postgres"  # a database that always exists
    shown = _shell(f"{server}?application_name=gantry-url-check&sslmode=disable")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.strip().splitlines()[-1] == "gantry-url-check False"
    # sslmode=require: an encrypted connection, or libpq's refusal where the server has SSL off.
    required = _shell(f"{server}?sslmode=require")
    if required.returncode == 0:
        assert required.stdout.strip().splitlines()[-1].endswith(" True")
    else:
        assert "server does not support SSL" in required.stderr


@pytest.mark.parametrize(("raw", "options"), [
    (None, {"server_side_binding": True, "prepare_threshold": 1}),
    ("5", {"server_side_binding": True, "prepare_threshold": 5}),
    ("off", {}),
])
def test_prepared_statements_on_by_default_and_off_for_a_pooler(monkeypatch, raw, options):
    if raw is None:
        monkeypatch.delenv("GANTRY_T", raising=False)
    else:
        monkeypatch.setenv("GANTRY_T", raw)
    assert env.prepared_statements("GANTRY_T", 1) == options


@pytest.mark.parametrize(("raw", "message"), [
    ("often", "GANTRY_T='often' is neither a number of runs nor 'off'"),
    ("-1", "GANTRY_T=-1 must be at least 0, or 'off'"),
])
def test_a_bad_prepare_threshold_names_the_variable_and_the_fix(monkeypatch, raw, message):
    monkeypatch.setenv("GANTRY_T", raw)
    with pytest.raises(ImproperlyConfigured) as info:
        env.prepared_statements("GANTRY_T", 1)
    assert message in str(info.value)


@pytest.mark.django_db
def test_the_portals_connection_prepares_a_statement_it_runs_again():
    """Issue 18: parsing and planning the same statements again was most of PostgreSQL's CPU in the push bench."""
    from django.db import connection

    from teams.models import Team

    for _ in range(3):
        list(Team.objects.filter(slug="prepared-check"))
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements WHERE from_sql = false")
        prepared = [row[0] for row in cursor.fetchall()]
    assert any('"teams_team"."slug" = $1' in s for s in prepared), prepared
