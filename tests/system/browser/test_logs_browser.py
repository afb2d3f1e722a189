"""A team member follows a pod's log live on the deployment page (Chromium, the sandbox's pod logs)."""

import time

import kubernetes
import pytest

from clusters import logs as cluster_logs
from tests.api_fixtures import stored_deployment
from tests.cluster_helpers import pod_running


def _lines(page):
    return page.locator("#logs pre.log").inner_text().splitlines()


def _wait(page, predicate, seconds=8):
    # The page's CSP refuses eval, so Playwright's wait_for_function cannot run: poll from here.
    deadline = time.monotonic() + seconds
    while not predicate() and time.monotonic() < deadline:
        page.wait_for_timeout(200)
    return predicate()


@pytest.mark.timeout(60)
def test_follow_streams_new_lines_into_the_logs_panel(transactional_db, live_server, browser_login, screenshot,
                                                      sandbox, sandbox_kubeconfig, team, viewer, monkeypatch):
    monkeypatch.setattr(cluster_logs, "FOLLOW_SECONDS", 3.0)  # so the page's reopening is exercised too
    deployment = stored_deployment(team)
    client = sandbox.api_client()
    core = kubernetes.client.CoreV1Api(client)
    core.create_namespace({"metadata": {"name": "tenant-nlp"}})
    pod_running(core, "tenant-nlp", "llama-chat-a", labels={"gantry.io/deployment": "llama-chat"},
                extra=("queue-proxy",))
    client.close()
    page = browser_login(viewer)
    errors = []
    page.on("console", lambda msg: errors.append(f"{msg.text} {msg.location.get('url')}")
            if msg.type == "error" else None)

    page.goto(f"{live_server.url}/deployments/{deployment.pk}/")
    log = page.locator("#logs pre.log")
    log.wait_for()
    assert "Application startup complete." in log.inner_text()
    page.get_by_label("Lines").fill("5")
    page.get_by_role("button", name="Show").click()
    assert _wait(page, lambda: len(_lines(page)) == 5)
    screenshot("logs-panel")

    page.get_by_label("Follow").check()
    page.locator("#logs pre[data-follow-url]").wait_for()
    before = len(_lines(page))
    # One request line a second, over more than one 3 s stream.
    assert _wait(page, lambda: len(_lines(page)) >= before + 5), _lines(page)
    lines = _lines(page)
    assert "POST /v1/chat/completions" in lines[-1]
    screenshot("logs-following")

    page.get_by_label("Follow").uncheck()
    assert _wait(page, lambda: page.locator("#logs pre[data-follow-url]").count() == 0)
    page.goto("about:blank")
    page.wait_for_timeout(3500)  # let the last follow stream end while the test's database is still there
    assert not [e for e in errors if "favicon.ico" not in e], errors  # e.g. a script refused by the CSP
