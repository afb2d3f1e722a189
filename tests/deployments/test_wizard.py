"""The wizard, step by step, through the Django test client (no JavaScript)."""


import re

import pytest

from deployments.models import Deployment, Draft
from specs.vocabulary import Status

pytestmark = [pytest.mark.django_db, pytest.mark.timeout(30)]

STEP1 = {"team": "nlp", "name": "llama-chat", "workload": "online"}
STEP2 = {"runtime__kind": "custom", "runtime__image": "ghcr.io/acme/llm-server:1.4", "model__uri": "s3://models/llama-3-8b/model.tensors", "model__parameters_billions": "8",
         "model__precision": "bf16", "model__format": "tensorizer", "storage__tier": "",
         "storage__credentials_secret": "s3-creds"}
STEP3 = {"compute__gpu_class": "", "compute__gpus_per_replica": "", "compute__region": "",
         "region_preference": "best-availability", "models_per_gpu": "1"}
STEP4 = {"scaling__latency_tolerance": "moderate", "scaling__min_replicas": "0", "scaling__max_replicas": "2",
         "scaling__scale_to_zero_retention": "30m", "scaling__target_utilization_percent": "",
         "scaling__target_concurrency": "1", "request_queue": "false"}
STEP5 = {"access__visibility": "public", "runtime__protocol": "http", "runtime__port": "8080", "target": "knative",
         "access__cross_cloud_clients": "false", "batching__max_batch_size": "", "batching__max_latency_ms": ""}
BATCH4 = {"batch__inputs_uri": "s3://data/prompts/", "batch__outputs_uri": "s3://data/completions/",
          "batch__parallelism": "2", "batch__timeout_minutes": "30", "batch__retries": "1"}


def step_url(draft, n):
    return f"/drafts/{draft.pk}/step/{n}/"


def start(client):
    response = client.get("/new/")
    assert response.status_code == 302
    return Draft.objects.latest("pk")


def walk(client, draft, *steps):
    for n, data in enumerate(steps, start=1):
        response = client.post(step_url(draft, n), data)
        assert response.status_code == 302, response.content.decode()[:2000]
        assert response["Location"] == step_url(draft, n + 1)


@pytest.fixture
def client_and_draft(login, owner):
    client = login(owner)
    return client, start(client)


def test_new_starts_a_draft_and_a_reload_resumes_it(client_and_draft):
    client, draft = client_and_draft
    walk(client, draft, STEP1)
    assert client.get("/new/")["Location"] == step_url(draft, 2)  # same draft, furthest step
    page = client.get(step_url(draft, 1)).content.decode()
    assert 'value="llama-chat"' in page and "Knative" in page and "Argo Workflow" in page


def test_step1_offers_only_teams_where_the_user_may_deploy(login, owner, other_team):
    page = login(owner).get(step_url(start(login(owner)), 1)).content.decode()
    assert 'value="nlp"' in page and 'value="vision"' not in page


def test_bad_name_shows_invalid_name_next_to_the_field(client_and_draft):
    client, draft = client_and_draft
    response = client.post(step_url(draft, 1), {**STEP1, "name": "Llama_Chat!"})
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="err-name"' in page and "DNS-1123 label" in page.split('id="err-name"')[1].split("</div>")[0]
    draft.refresh_from_db()
    assert draft.step == 1


def test_field_is_validated_when_left_with_htmx(client_and_draft):
    client, draft = client_and_draft
    response = client.post(step_url(draft, 1) + "?field=name", {**STEP1, "name": "Bad Name"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert body.strip().startswith('<div id="err-name"') and "DNS-1123" in body
    assert "<html" not in body
    ok = client.post(step_url(draft, 1) + "?field=name", STEP1, HTTP_HX_REQUEST="true").content.decode()
    assert "DNS-1123" not in ok


def test_step2_recommends_storage_and_shows_cold_start(client_and_draft):
    client, draft = client_and_draft
    walk(client, draft, STEP1)
    response = client.post(step_url(draft, 2), {**STEP2, "model__parameters_billions": "70",
                                                 "model__format": "safetensors"}, follow=True)
    assert response.redirect_chain[-1][0] == step_url(draft, 3)
    page = client.get(step_url(draft, 2)).content.decode()
    assert "accelerated-object" in page and "Cold-start estimate" in page and "Tensorizer" in page


def test_step2_bad_uri_blocks_with_the_message(client_and_draft):
    client, draft = client_and_draft
    walk(client, draft, STEP1)
    page = client.post(step_url(draft, 2), {**STEP2, "model__uri": "ftp://nope"}).content.decode()
    assert "s3://&lt;bucket&gt;/&lt;path&gt;" in page.split('id="err-model__uri"')[1].split("</div>")[0]


def test_step3_recommends_a_gpu_with_alternatives_and_prices(client_and_draft):
    client, draft = client_and_draft
    walk(client, draft, STEP1, STEP2)
    page = client.get(step_url(draft, 3)).content.decode()
    assert 'id="gpu-recommendation"' in page and "GB VRAM" in page and "/hour" in page
    assert 'id="gpu-alternatives"' in page and "H100_NVLINK_80GB" in page and "LAS1 (" in page
    assert "Never." in page


def test_step3_several_models_per_gpu_shows_bin_packing_error(client_and_draft):
    client, draft = client_and_draft
    walk(client, draft, STEP1, STEP2)
    response = client.post(step_url(draft, 3), {**STEP3, "models_per_gpu": "3"})
    assert response.status_code == 200
    error = response.content.decode().split('id="err-models_per_gpu"')[1].split("</div>")[0]
    assert "Do not pack several models onto one GPU" in error


def test_step4_retention_over_an_hour_is_refused(client_and_draft):
    client, draft = client_and_draft
    walk(client, draft, STEP1, STEP2, STEP3)
    page = client.post(step_url(draft, 4), {**STEP4, "scaling__scale_to_zero_retention": "2h"}).content.decode()
    assert "at most 1h" in page.split('id="err-scaling__scale_to_zero_retention"')[1].split("</div>")[0]
    assert "Probably not: rely on autoscaling" in page


def test_cannot_skip_ahead(client_and_draft):
    client, draft = client_and_draft
    assert client.get(step_url(draft, 4))["Location"] == step_url(draft, 1)


def test_review_shows_spec_cost_yaml_and_checklist(client_and_draft):
    client, draft = client_and_draft
    walk(client, draft, STEP1, STEP2, STEP3, STEP4, STEP5)
    page = client.get(step_url(draft, 6)).content.decode()
    assert "An online service <strong>llama-chat</strong>" in page
    assert "Per hour" in page and "Per month" in page and "$0.00 – $" in page  # scales to zero
    assert "kind: Service" in page and "serving.knative.dev/v1" in page
    assert "Several models on one GPU" in page and "Never: pick the right GPU" in page
    download = client.get(f"/drafts/{draft.pk}/manifests.yaml")
    assert download["Content-Disposition"] == 'attachment; filename="llama-chat.yaml"'
    assert b"serving.knative.dev/v1" in download.content


def test_deploy_creates_the_deployment_and_queues_the_push(dispatched, client_and_draft, django_capture_on_commit_callbacks):
    delay = dispatched.push
    client, draft = client_and_draft
    walk(client, draft, STEP1, STEP2, STEP3, STEP4, STEP5)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(step_url(draft, 6))
    deployment = Deployment.objects.get(team__slug="nlp", name="llama-chat")
    assert response.status_code == 302
    assert deployment.status == Status.QUEUED
    spec = deployment.current_revision.spec
    assert spec["compute"]["gpu_class"] and spec["scaling"]["target_utilization_percent"] == 85
    delay.assert_called_once_with(deployment.pk, 1)
    assert not Draft.objects.filter(pk=draft.pk).exists()


def test_batch_walk_reaches_review_with_argo(client_and_draft):
    client, draft = client_and_draft
    walk(client, draft, {**STEP1, "name": "nightly", "workload": "batch"}, STEP2, STEP3, BATCH4, {})
    page = client.get(step_url(draft, 6)).content.decode()
    assert "A batch run <strong>nightly</strong>" in page and "kind: Workflow" in page
    assert "One run, at most" in page


def test_batch_step4_needs_inputs(client_and_draft):
    client, draft = client_and_draft
    walk(client, draft, {**STEP1, "workload": "batch"}, STEP2, STEP3)
    page = client.post(step_url(draft, 4), {**BATCH4, "batch__inputs_uri": ""}).content.decode()
    assert "is required" in page.split('id="err-batch__inputs_uri"')[1].split("</div>")[0]


def test_outsider_gets_404_for_another_users_draft(login, client_and_draft, outsider):
    _, draft = client_and_draft
    intruder = login(outsider)
    assert intruder.get(step_url(draft, 1)).status_code == 404
    assert intruder.post(step_url(draft, 1), STEP1).status_code == 404
    assert intruder.get(f"/drafts/{draft.pk}/manifests.yaml").status_code == 404
    assert intruder.post(f"/drafts/{draft.pk}/discard/").status_code == 404


def test_viewer_is_offered_no_team_and_cannot_deploy(login, viewer):
    client = login(viewer)
    page = client.get("/new/").content.decode()
    assert "cannot deploy yet" in page and not Draft.objects.filter(user=viewer).exists()
    # Even with a complete draft forged in the database, Deploy is refused.
    from tests.factories import online_spec

    draft = Draft.objects.create(user=viewer, data=online_spec(), step=6)
    response = client.post(step_url(draft, 6))
    assert response.status_code in (403, 404)
    assert not Deployment.objects.exists()


def test_edit_creates_revision_2_and_shows_a_diff(dispatched, login, owner, django_capture_on_commit_callbacks):
    from deployments.services.lifecycle import deployment_create
    from tests.factories import online_spec

    deployment = deployment_create(user=owner, spec=online_spec())
    client = login(owner)
    response = client.get(f"/deployments/{deployment.pk}/edit/")
    draft = Draft.objects.get(deployment=deployment)
    assert response["Location"] == step_url(draft, 1)
    page = client.get(step_url(draft, 1)).content.decode()
    assert 'value="llama-chat"' in page and "disabled" in page.split('name="name"')[1].split(">")[0]
    assert client.post(step_url(draft, 4), {**STEP4, "scaling__max_replicas": "3"}).status_code == 302
    review = client.get(step_url(draft, 6)).content.decode()
    assert "Changes against the running revision" in review
    diff = review.split('id="diff"')[1].split("</pre>")[0]
    assert '<span class="diff-add">+        autoscaling.knative.dev/max-scale: &#x27;3&#x27;</span>' in diff
    assert '<span class="diff-del">-        autoscaling.knative.dev/max-scale: &#x27;2&#x27;</span>' in diff
    with django_capture_on_commit_callbacks(execute=True):
        client.post(step_url(draft, 6))
    deployment.refresh_from_db()
    assert deployment.current_revision.number == 2
    assert deployment.current_revision.spec["scaling"]["max_replicas"] == 3


def test_outsider_cannot_edit(login, owner, outsider):
    from tests.factories import DeploymentFactory, TeamFactory

    deployment = DeploymentFactory(team=TeamFactory(slug="nlp"))
    assert login(outsider).get(f"/deployments/{deployment.pk}/edit/").status_code == 404


# --- the container: runtime image, command, args and environment (issue 14) ---------------------------------------

def test_the_model_step_asks_the_runtime_first_with_the_image_defaulted_per_runtime(client_and_draft):
    client, draft = client_and_draft
    walk(client, draft, STEP1)
    page = client.get(step_url(draft, 2)).content.decode()
    assert page.index('name="runtime__kind"') < page.index('name="runtime__image"') < page.index('name="model__uri"')
    assert "vllm/vllm-openai:v0.11.0" in page and "data-runtime-images" in page
    # Left empty, a vLLM deployment gets the pinned image in the YAML.
    walk(client, draft, STEP1, {**STEP2, "runtime__kind": "vllm", "runtime__image": ""}, STEP3, STEP4, STEP5)
    review = client.get(step_url(draft, 6)).content.decode()
    assert "image: vllm/vllm-openai:v0.11.0" in review and "--tensor-parallel-size" in review


CONTAINER = {"runtime__command": "python\n-m\nserver", "runtime__args": "--workers\n\n 4 ",
             "runtime__env": "LOG_LEVEL=debug\nMODE = fast", "runtime__secret_env": "HF_TOKEN=hf-token/token"}


def test_a_custom_container_is_edited_in_the_wizard_and_reaches_the_yaml(client_and_draft):
    client, draft = client_and_draft
    walk(client, draft, STEP1, STEP2, STEP3, STEP4, {**STEP5, **CONTAINER})
    draft.refresh_from_db()
    runtime = draft.data["runtime"]
    assert runtime["command"] == ["python", "-m", "server"] and runtime["args"] == ["--workers", "4"]
    assert runtime["env"] == {"LOG_LEVEL": "debug", "MODE": "fast"}
    assert runtime["secret_env"] == {"HF_TOKEN": "hf-token/token"}
    review = client.get(step_url(draft, 6)).content.decode()
    assert "- python" in review and "name: hf-token" in review and "- --workers" in review
    # Going back shows them as written, one per line.
    page = client.get(step_url(draft, 5)).content.decode()
    assert "LOG_LEVEL=debug\nMODE=fast</textarea>" in page and "python\n-m\nserver</textarea>" in page


@pytest.mark.parametrize("field, text, needle", [
    ("runtime__env", "HF_TOKEN=hf_abcdefghijklmnopqrstu", "Kubernetes Secret"),
    ("runtime__env", "DB_PASSWORD=hunter2", "Kubernetes Secret"),
    ("runtime__args", "--api-key=sk-abcdefghijklmnopqrstuvwx", "Kubernetes Secret"),
    ("runtime__env", "no equals sign here", "NAME=value"),
])
def test_a_literal_secret_or_a_bad_line_is_refused_and_never_stored(client_and_draft, field, text, needle):
    client, draft = client_and_draft
    walk(client, draft, STEP1, STEP2, STEP3, STEP4)
    response = client.post(step_url(draft, 5), {**STEP5, field: text})
    assert response.status_code == 200
    error = response.content.decode().split(f'id="err-{field}"')[1].split("</div>")[0]
    assert needle in error
    draft.refresh_from_db()
    assert draft.step == 5 and text.split("=")[-1] not in str(draft.data)


def test_a_command_for_a_serving_runtime_is_refused_next_to_the_field(client_and_draft):
    client, draft = client_and_draft
    walk(client, draft, STEP1, {**STEP2, "runtime__kind": "vllm"}, STEP3, STEP4)
    response = client.post(step_url(draft, 5), {**STEP5, "runtime__command": "bash"})
    error = response.content.decode().split('id="err-runtime__command"')[1].split("</div>")[0]
    # The API's `runtime.kind` is the wizard's “Serving runtime” here: no spec path on the page.
    assert "“Serving runtime” set to <code>custom</code>" in error and "runtime.kind" not in error


def test_the_scaling_step_explains_the_target_concurrency_for_the_runtime(client_and_draft):
    client, draft = client_and_draft
    walk(client, draft, STEP1, {**STEP2, "runtime__kind": "vllm"}, STEP3)
    advice = client.get(step_url(draft, 4)).content.decode().split('id="advice"')[1]
    item = advice.split('data-field="scaling.target_concurrency"')[1].split("</li>")[0]
    assert "Target concurrency (requests per replica): 32</strong>" in item and "Continuous batching" in item


def test_the_classes_that_fit_count_the_kv_cache_of_the_stated_context(client_and_draft):
    # Llama 3 8B (catalog family): 16 GB of weights + 4.3 GB of KV cache at 32k: the recommender's 27 GB, and
    # one 24 GB RTX_A5000, which holds the weights alone, is no longer listed as a fit (a linked pair is).
    client, draft = client_and_draft
    step2 = {**STEP2, "runtime__kind": "vllm", "runtime__image": "", "model__family": "meta-llama/Meta-Llama-3-8B",
             "serving__max_context_tokens": "32768"}
    walk(client, draft, STEP1, step2)
    advice = client.get(step_url(draft, 3)).content.decode().split('id="advice"')[1]
    assert "needs about 27 GB" in advice
    table = advice.split('id="gpu-alternatives"')[1].split("</table>")[0]
    assert "1 × RTX_A5000" not in table and "2 × RTX_A5000" in table and "1 × L40" in table


def test_a_taken_name_is_refused_at_the_first_step(client_and_draft, team):
    from tests.factories import DeploymentFactory

    DeploymentFactory(team=team, name="llama-chat")
    client, draft = client_and_draft
    response = client.post(step_url(draft, 1), STEP1)
    assert response.status_code == 200
    error = response.content.decode().split('id="err-name"')[1].split("</div>")[0]
    assert "already has a deployment named" in error
    walk(client, draft, {**STEP1, "name": "llama-chat-2"})


# --- CPU nodes (issue 14): compute.accelerator at step 3 ----------------------------------------------------------

SMALL_MODEL = {**STEP2, "model__uri": "s3://models/llama-3.2-1b/", "model__parameters_billions": "1",
               "model__precision": "bf16", "model__format": "safetensors"}


def test_a_small_model_on_cpu_nodes_reaches_the_review_without_a_gpu(client_and_draft):
    client, draft = client_and_draft
    walk(client, draft, STEP1, SMALL_MODEL, {**STEP3, "compute__accelerator": "cpu"},
         {**STEP4, "scaling__latency_tolerance": "relaxed"}, STEP5)
    draft.refresh_from_db()
    assert draft.data["compute"]["accelerator"] == "cpu" and "gpu_class" not in draft.data["compute"]
    review = client.get(step_url(draft, 6)).content.decode()
    assert "kind: Service" in review and "nvidia.com/gpu" not in review
    # The CPU node affinity of specs/cpu.py: the AVX2 families under node.coreweave.cloud/cpu.
    assert "node.coreweave.cloud/cpu" in review and "amd-epyc-milan" in review
    assert "gpu.nvidia.com/class" not in review


def test_cpu_nodes_with_a_gpu_class_show_accelerator_mismatch_next_to_the_field(client_and_draft):
    client, draft = client_and_draft
    walk(client, draft, STEP1, SMALL_MODEL)
    response = client.post(step_url(draft, 3), {**STEP3, "compute__accelerator": "cpu",
                                                "compute__gpu_class": "A40"})
    assert response.status_code == 200
    error = response.content.decode().split('id="err-compute__gpu_class"')[1].split("</div>")[0]
    assert "“GPU class” applies to GPU nodes" in error and "set “Run on” to <code>gpu</code>" in error
    draft.refresh_from_db()
    assert draft.step == 3


# --- Issue 20: what a newcomer meets in the wizard ------------------------------------------------------------------


def test_recommended_answers_are_preselected_and_an_empty_port_says_its_default(client_and_draft):
    client, draft = client_and_draft
    step1 = client.get(step_url(draft, 1)).content.decode()
    assert '<option value="nlp" selected>' in step1  # the only team the owner may deploy to
    walk(client, draft, STEP1, STEP2)
    step3 = client.get(step_url(draft, 3)).content.decode()
    assert re.search(r'<input type="radio" name="region_preference" value="best-availability"[^>]* checked', step3)
    walk(client, draft, STEP1, STEP2, STEP3, STEP4)
    step5 = client.get(step_url(draft, 5)).content.decode()
    assert re.search(r'<input type="radio" name="access__visibility" value="public"[^>]* checked', step5)
    assert re.search(r'<input type="radio" name="access__cross_cloud_clients" value="false"[^>]* checked', step5)
    port = re.search(r'<input type="number" name="runtime__port"[^>]*>', step5).group(0)
    assert 'placeholder="8080"' in port and "Left empty: 8080" in step5


def test_fix_the_highlighted_answers_only_once_an_answer_was_checked(client_and_draft):
    client, draft = client_and_draft
    walk(client, draft, STEP1)
    fresh = client.get(step_url(draft, 2)).content.decode()
    assert "fix the highlighted answers" not in fresh and 'id="no-recommendation"' in fresh
    checked = client.post(step_url(draft, 2), {**STEP2, "model__uri": "ftp://nope"}).content.decode()
    assert "No recommendation yet: fix the highlighted answers first." in checked


def test_advice_speaks_in_labels_and_gives_the_tensorizer_advice_once(client_and_draft):
    client, draft = client_and_draft
    walk(client, draft, STEP1, {**STEP2, "model__parameters_billions": "70", "model__format": "safetensors",
                                "model__uri": "s3://models/llama-3-70b/model.safetensors"})
    advice = client.get(step_url(draft, 2)).content.decode().split('id="advice"')[1]
    assert "Storage tier: Accelerated object storage</strong>" in advice and "storage.tier" not in advice.replace(
        'data-field="storage.tier"', "")
    assert advice.count("Serialize it with Tensorizer") == 1 and 'id="tensorizer-about"' not in advice
    assert 'class="notice advice" data-code="use_tensorizer"' in advice


def test_a_batch_runs_step5_asks_what_applies_to_it(client_and_draft):
    client, draft = client_and_draft
    walk(client, draft, {**STEP1, "workload": "batch"}, STEP2, STEP3, BATCH4)
    page = client.get(step_url(draft, 5)).content.decode()
    assert "Step 5 of 6 · Command and environment" in page and "What applies to a batch run" in page
    for name in ("runtime__command", "runtime__args", "runtime__env", "runtime__secret_env"):
        assert f'name="{name}"' in page, name
    assert "SHARD_INDEX" in page and "Nothing to set here" not in page
    walk(client, draft, {**STEP1, "workload": "batch"}, STEP2, STEP3, BATCH4, {"runtime__env": "LOG_LEVEL=debug"})
    draft.refresh_from_db()
    assert draft.data["runtime"]["env"] == {"LOG_LEVEL": "debug"}


def test_an_invalid_outputs_uri_says_what_is_wrong_not_that_it_is_missing(client_and_draft):
    client, draft = client_and_draft
    walk(client, draft, {**STEP1, "workload": "batch"}, STEP2, STEP3)
    page = client.post(step_url(draft, 4), {**BATCH4, "batch__outputs_uri": "s3://data completions"}).content.decode()
    error = page.split('id="err-batch__outputs_uri"')[1].split("</div>")[0]
    assert "“Outputs URI” is not a storage URI" in error and "required" not in error


def test_the_review_writes_proper_plurals(client_and_draft):
    client, draft = client_and_draft
    walk(client, draft, STEP1, STEP2, STEP3, {**STEP4, "scaling__max_replicas": "1"}, STEP5)
    summary = client.get(step_url(draft, 6)).content.decode().split('id="summary"')[1].split("</dl>")[0]
    assert "0–1 replica," in summary and "1 concurrent request per replica" in summary and "(s)" not in summary
