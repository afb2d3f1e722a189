"""Structured logs: one JSON object per record, carrying the request, user, deployment and task ids."""

import io
import json
import logging
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.utils.module_loading import import_string

from deployments import tasks
from portal.logs import ContextFilter, task_context_end, task_context_start

pytestmark = pytest.mark.django_db


@pytest.fixture
def json_lines():
    """The records of the root logger, formatted by the JSON formatter LOGGING configures."""
    options = dict(settings.LOGGING["formatters"]["json"])
    formatter = import_string(options.pop("()"))(**options)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    handler.addFilter(ContextFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    level, root.level = root.level, logging.INFO
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)
    root.level = level


def test_a_request_is_logged_as_json_with_its_id_user_path_and_status(client, owner, json_lines):
    client.force_login(owner)
    response = client.get("/catalog/", HTTP_X_REQUEST_ID="req-1234")

    assert response["X-Request-ID"] == "req-1234"
    line = next(r for r in json_lines() if r["name"] == "gantry.request")
    assert line["request_id"] == "req-1234"
    assert line["user"] == owner.username
    assert (line["path"], line["method"], line["status"]) == ("/catalog/", "GET", 200)
    assert line["levelname"] == "INFO" and "timestamp" in line


def test_a_request_without_a_usable_id_gets_one_and_the_view_logs_carry_the_deployment(
        client, owner, json_lines):
    from deployments.services.lifecycle import deployment_create
    from tests.factories import online_spec

    d = deployment_create(user=owner, spec=online_spec())
    client.force_login(owner)
    response = client.get(f"/deployments/{d.pk}/", HTTP_X_REQUEST_ID="not ok\nforged: line")

    request_id = response["X-Request-ID"]
    assert len(request_id) == 32 and "\n" not in request_id
    line = next(r for r in json_lines() if r["name"] == "gantry.request")
    assert line["request_id"] == request_id
    assert line["deployment_id"] == d.pk
    # Outside a request nothing is left behind for the next one.
    logging.getLogger("after").info("later")
    assert json_lines()[-1]["request_id"] is None


def test_a_task_log_record_carries_the_task_and_deployment_ids(json_lines):
    task_context_start(task_id="task-42", task=tasks.push_deployment, args=[7, 1], kwargs={})
    logging.getLogger("deployments.tasks").warning("push retried")
    task_context_end(task_id="task-42")
    logging.getLogger("deployments.tasks").warning("between tasks")

    during, after = json_lines()[-2:]
    assert (during["task_id"], during["deployment_id"], during["message"]) == ("task-42", 7, "push retried")
    assert (after["task_id"], after["deployment_id"]) == (None, None)


def test_a_task_run_by_celery_logs_its_own_id(json_lines, db):
    result = tasks.sync_status.apply()

    records = [r for r in json_lines() if r["name"] == "celery.app.trace" and r["task_id"]]
    assert records and all(r["task_id"] == result.id for r in records)


@pytest.mark.timeout(90)
def test_an_unknown_log_format_stops_start_up_with_the_variable_name():
    env = {**os.environ, "DEBUG": "1", "LOG_FORMAT": "xml"}
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=settings.BASE_DIR, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "LOG_FORMAT='xml' must be json or text" in result.stderr
