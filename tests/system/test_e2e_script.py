"""Done when: a script following only the README's REST API section creates a token, previews, deploys, watches the
deployment reach running in the sandbox, reads its spend and tears it down. Real HTTP (`requests`
against live_server), a real Celery worker and the sandbox Kubernetes API."""

import re
import time

import pytest
import requests

from tests.factories import online_spec

pytestmark = [pytest.mark.timeout(120), pytest.mark.django_db(transaction=True)]


def _token_from_the_tokens_page(base, username, password):
    browser = requests.Session()
    page = browser.get(f"{base}/login/", timeout=10).text
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    browser.post(f"{base}/login/", data={"username": username, "password": password, "csrfmiddlewaretoken": csrf},
                 headers={"Referer": f"{base}/login/"}, timeout=10).raise_for_status()
    page = browser.get(f"{base}/tokens/", timeout=10).text
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    created = browser.post(f"{base}/tokens/", data={"name": "e2e-script", "csrfmiddlewaretoken": csrf},
                           headers={"Referer": f"{base}/tokens/"}, timeout=10)
    assert created.status_code == 201, created.text[:500]
    return re.search(r'<pre id="new-key">([^<]+)</pre>', created.text).group(1)


def _poll(api, url, until, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = api.get(url, timeout=10).json()
        if until(body):
            return body
        time.sleep(0.5)
    raise AssertionError(f"not {what} after {timeout}s: {body['status']}")


def test_a_script_deploys_watches_reads_spend_and_tears_down(
    live_server, sandbox_simulated, sandbox_kubeconfig, celery_worker_process, deployer
):
    base = live_server.url
    sandbox_simulated.simulator.set_traffic("tenant-nlp", "llama-chat", "steady")
    key = _token_from_the_tokens_page(base, "dan-deployer", "pw-for-tests-1")

    api = requests.Session()
    api.headers["Authorization"] = f"Token {key}"
    spec = online_spec()

    preview = api.post(f"{base}/api/v1/deployments/preview/", json=spec, timeout=30)
    assert preview.status_code == 200, preview.text
    assert preview.json()["errors"] == [] and preview.json()["cost"]["currency"] == "USD"

    created = api.post(f"{base}/api/v1/deployments/", json=spec, headers={"Idempotency-Key": "e2e-1"}, timeout=30)
    assert created.status_code == 201, created.text
    url = f"{base}/api/v1/deployments/{created.json()['id']}/"
    retried = api.post(f"{base}/api/v1/deployments/", json=spec, headers={"Idempotency-Key": "e2e-1"}, timeout=30)
    assert retried.status_code == 200 and retried.json()["id"] == created.json()["id"]

    running = _poll(api, url, lambda d: d["status"]["phase"] == "running" and d["status"]["ready_pods"] > 0,
                    60, f"running; worker log:\n{celery_worker_process.log()[-3000:]}")
    assert running["status"]["url"] and running["status"]["last_synced_at"]
    assert running["spend"]["burn_rate_usd_per_hour"] > 0

    yaml_stream = api.get(f"{url}manifests/?format=yaml", timeout=10)
    assert yaml_stream.headers["Content-Type"].startswith("application/yaml") and "kind: Service" in yaml_stream.text
    spend = api.get(f"{base}/api/v1/teams/nlp/spend/", timeout=10)
    assert spend.status_code == 200 and spend.json()["currency"] == "USD"

    gone = api.delete(url, timeout=30)
    assert gone.status_code == 202 and gone.json()["status"]["phase"] == "deleting"
    _poll(api, url, lambda d: d["status"]["phase"] == "deleted", 45, "deleted")
    assert sandbox_simulated.objects("pods", "tenant-nlp") == [] or all(
        p["metadata"].get("deletionTimestamp") for p in sandbox_simulated.objects("pods", "tenant-nlp"))
