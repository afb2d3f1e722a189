"""A person walks the wizard in Chromium, deploys, and watches the deployment run on the sandbox cluster.

Screenshots of every step land in test-artifacts/screenshots/wizard-<kind>-<n>-<step>.png.
"""

import re

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.django_db(transaction=True),
              pytest.mark.timeout(90)]


def next_step(page, number):
    page.get_by_role("button", name=re.compile(r"^Next")).click()
    page.wait_for_url(re.compile(rf"/step/{number}/$"))
    expect(page.get_by_role("heading", name=re.compile(rf"^Step {number} of 6"))).to_be_visible()


def basics(page, screenshot, *, kind, name, workload, image):
    expect(page.get_by_role("heading", name=re.compile("^Step 1 of 6"))).to_be_visible()
    page.get_by_label("Team").select_option("nlp")
    page.get_by_label("Deployment name").fill("Not Valid!")
    page.get_by_label("Container image").focus()  # leaving the name checks it
    expect(page.locator("#err-name")).to_contain_text("DNS-1123")
    page.get_by_label("Deployment name").fill(name)
    page.get_by_role("radio", name=re.compile("^Online" if workload == "online" else "^Batch")).check()
    page.get_by_label("Container image").fill(image)
    page.get_by_label("Deployment name").focus()
    expect(page.locator("#err-name")).to_be_empty()
    expect(page.locator("#err-runtime__image")).to_be_empty()
    expect(page.locator("#advice")).to_contain_text("Argo Workflow")
    screenshot(f"wizard-{kind}-1-basics")
    next_step(page, 2)


def model_and_compute(page, screenshot, *, kind):
    page.get_by_label("Model URI").fill("s3://models/llama-3-8b/model.safetensors")
    page.get_by_label("Size (billions of parameters)").fill("8")
    page.get_by_label("Checkpoint format").select_option("safetensors")
    page.get_by_label("Object-store credentials Secret").fill("s3-creds")
    # The advice panel follows the answers: storage tier, Tensorizer, cold start.
    expect(page.locator("#advice")).to_contain_text("Recommended storage.tier")
    expect(page.locator("#cold-start")).to_contain_text("Cold-start estimate")
    expect(page.locator("#advice")).to_contain_text("Tensorizer")
    screenshot(f"wizard-{kind}-2-model")
    next_step(page, 3)

    recommendation = page.locator("#gpu-recommendation")
    expect(recommendation).to_contain_text("GB VRAM")
    expect(recommendation).to_contain_text("/hour")
    expect(page.locator("#gpu-alternatives tbody tr").first).to_be_visible()
    assert page.locator("#gpu-alternatives tbody tr").count() > 3
    page.get_by_label("Models per GPU").fill("2")
    page.get_by_label("GPU class").focus()
    expect(page.locator("#err-models_per_gpu")).to_contain_text("Do not pack several models onto one GPU")
    screenshot(f"wizard-{kind}-3-compute-bin-packing")
    with page.expect_response(lambda r: r.request.method == "POST" and "field=" not in r.url):
        page.get_by_role("button", name=re.compile(r"^Next")).click()  # refused: the error stays
    expect(page).to_have_url(re.compile(r"/step/3/$"))
    expect(page.locator("#err-models_per_gpu")).to_contain_text("Do not pack")
    page.get_by_label("Models per GPU").fill("1")
    page.get_by_label("Region", exact=True).select_option("LAS1")
    next_step(page, 4)


def review_and_deploy(page, screenshot, *, kind, final_statuses):
    expect(page.locator("#cost")).to_contain_text("Per hour")
    expect(page.locator("#cost")).to_contain_text("Per month")
    expect(page.locator("#manifests pre")).to_contain_text("kind:")
    expect(page.locator("#checklist")).to_contain_text("Never: pick the right GPU")
    screenshot(f"wizard-{kind}-6-review")
    page.get_by_role("button", name="Deploy").click()
    page.wait_for_url(re.compile(r"/deployments/\d+/$"))
    badge = page.locator("#status-badge")
    expect(badge).to_have_attribute("data-status", re.compile("|".join(final_statuses)), timeout=45_000)
    screenshot(f"wizard-{kind}-7-deployment")


def test_online_deployment_from_wizard_to_running(
    browser_login, live_server, owner, screenshot, sandbox_simulated, sandbox_kubeconfig, celery_worker_process
):
    page = browser_login(owner)
    page.goto(live_server.url + "/new/")
    basics(page, screenshot, kind="online", name="llama-chat", workload="online",
           image="ghcr.io/acme/llm-server:1.4")
    model_and_compute(page, screenshot, kind="online")

    expect(page.locator("#advice")).to_contain_text("Probably not: rely on autoscaling")
    page.get_by_label("Minimum replicas").fill("1")
    page.get_by_label("Maximum replicas").fill("2")
    screenshot("wizard-online-4-scaling")
    next_step(page, 5)
    expect(page.locator("#advice")).to_contain_text("Server-side batching")
    screenshot("wizard-online-5-access")
    next_step(page, 6)
    expect(page.locator("#summary")).to_contain_text("An online service llama-chat")
    review_and_deploy(page, screenshot, kind="online", final_statuses=["running"])


def test_batch_deployment_from_wizard_to_running(
    browser_login, live_server, owner, screenshot, sandbox_simulated, sandbox_kubeconfig, celery_worker_process
):
    page = browser_login(owner)
    page.goto(live_server.url + "/new/")
    basics(page, screenshot, kind="batch", name="nightly-batch", workload="batch",
           image="ghcr.io/acme/batch-infer:2.0")
    model_and_compute(page, screenshot, kind="batch")

    page.get_by_label("Parallelism (pods at once)").fill("2")
    with page.expect_response(lambda r: r.request.method == "POST" and "field=" not in r.url):
        page.get_by_role("button", name=re.compile(r"^Next")).click()  # inputs missing: refused
    expect(page.locator("#err-batch__inputs_uri")).to_contain_text("is required")
    page.get_by_label("Inputs URI").fill("s3://data/prompts/")
    page.get_by_label("Outputs URI").fill("s3://data/completions/")
    page.get_by_label("Timeout (minutes)").fill("30")
    screenshot("wizard-batch-4-run")
    next_step(page, 5)
    next_step(page, 6)
    expect(page.locator("#summary")).to_contain_text("A batch run nightly-batch")
    expect(page.locator("#cost")).to_contain_text("One run, at most")
    review_and_deploy(page, screenshot, kind="batch", final_statuses=["running", "succeeded"])
