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


def basics(page, screenshot, *, kind, name, workload):
    expect(page.get_by_role("heading", name=re.compile("^Step 1 of 6"))).to_be_visible()
    page.get_by_label("Team").select_option("nlp")
    page.get_by_label("Deployment name").fill("Not Valid!")
    page.get_by_label("Team").focus()  # leaving the name checks it
    expect(page.locator("#err-name")).to_contain_text("DNS-1123")
    page.get_by_label("Deployment name").fill(name)
    page.get_by_role("radio", name=re.compile("^Online" if workload == "online" else "^Batch")).check()
    page.get_by_label("Team").focus()
    expect(page.locator("#err-name")).to_be_empty()
    expect(page.locator("#advice")).to_contain_text("Argo Workflow")
    screenshot(f"wizard-{kind}-1-basics")
    next_step(page, 2)


def model_and_compute(page, screenshot, *, kind, image):
    page.get_by_label("Container image").fill(image)
    page.get_by_label("Model URI").fill("s3://models/llama-3-8b/model.safetensors")
    expect(page.locator("#err-runtime__image")).to_be_empty()
    page.get_by_label("Size (billions of parameters)").fill("8")
    page.get_by_label("Checkpoint format").select_option("safetensors")
    page.get_by_label("Object-store credentials Secret").fill("s3-creds")
    # The advice panel follows the answers: storage tier, Tensorizer, cold start.
    expect(page.locator("#advice li[data-field='storage.tier']")).to_contain_text("Storage tier:")
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
    basics(page, screenshot, kind="online", name="llama-chat", workload="online")
    model_and_compute(page, screenshot, kind="online", image="ghcr.io/acme/llm-server:1.4")

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
    basics(page, screenshot, kind="batch", name="nightly-batch", workload="batch")
    model_and_compute(page, screenshot, kind="batch", image="ghcr.io/acme/batch-infer:2.0")

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


def test_vllm_8b_with_a_32k_context_gets_room_for_its_kv_cache_and_the_server_args(
    browser_login, live_server, owner, screenshot
):
    """Issue 14: Llama 3 8B in bf16 is 16 GB; a 32k context adds 2 × 32 layers × 8 KV heads × 128 × 2 bytes
    × 32768 tokens = 4.3 GB of KV cache, more than a 24 GB card leaves within vLLM's 90 %."""
    page = browser_login(owner)
    page.goto(live_server.url + "/new/")
    basics(page, screenshot, kind="vllm", name="llama-long", workload="online")
    page.get_by_label("Serving runtime").select_option("vllm")
    expect(page.get_by_label("Container image")).to_have_value("vllm/vllm-openai:v0.11.0")  # follows the runtime
    page.get_by_label("Model URI").fill("s3://models/llama-3-8b/model.tensors")
    page.get_by_label("Size (billions of parameters)").fill("8")
    page.get_by_label("Model family").select_option("meta-llama/Meta-Llama-3-8B")
    page.get_by_label("Object-store credentials Secret").fill("s3-creds")
    page.get_by_label("Longest context (tokens)").fill("32768")
    page.get_by_label("Sequences at once").focus()
    screenshot("wizard-vllm-2-model")
    next_step(page, 3)
    recommendation = page.locator("#gpu-recommendation")
    expect(recommendation).to_contain_text("GB VRAM")
    vram = int(re.search(r"(\d+) GB VRAM", recommendation.inner_text()).group(1))
    assert vram * 0.9 > 16 + 4.29 + 2, vram  # weights + KV cache + runtime fit: not the 24 GB RTX_A5000
    expect(page.locator("#advice")).to_contain_text("KV cache")
    screenshot("wizard-vllm-3-compute")
    next_step(page, 4)
    expect(page.locator("#advice li[data-field='scaling.target_concurrency']")).to_contain_text("Continuous batching")
    next_step(page, 5)
    next_step(page, 6)
    manifests = page.locator("#manifests pre")
    for arg in ("--max-model-len", "'32768'", "--tensor-parallel-size", "--load-format", "tensorizer",
                "S3_ENDPOINT_URL", "path: /health"):
        expect(manifests).to_contain_text(arg)
    screenshot("wizard-vllm-6-review")
