"""GPU memory for LLM serving (specs/memory.py), with the KV cache computed by hand.

Architectures from the models' config.json on the Hugging Face hub (meta-llama/Meta-Llama-3-8B and
-70B): 8B has 32 layers, 8 KV heads, head dim 4096 / 32 = 128; 70B has 80 layers, 8 KV heads,
head dim 8192 / 64 = 128. Bytes per token = 2 × layers × KV heads × head dim × 2 (bf16).
"""

import pytest

from specs.memory import kv_dims_estimated, kv_per_token, largest_context, memory_breakdown, memory_needed_gb
from tests.factories import online_spec

LLAMA_3_8B = {"parameters_billions": 8, "precision": "bf16", "layers": 32, "kv_heads": 8, "head_dim": 128}
LLAMA_3_70B = {"parameters_billions": 70, "precision": "bf16", "layers": 80, "kv_heads": 8, "head_dim": 128}


def _spec(model, context=None, sequences=None):
    serving = {k: v for k, v in (("max_context_tokens", context), ("max_concurrent_sequences", sequences)) if v}
    return {"model": model, "serving": serving}


@pytest.mark.parametrize("model, context, kv_gb", [
    (LLAMA_3_8B, 8192, 2 * 32 * 8 * 128 * 2 * 8192 / 1e9),     # 131,072 B/token: 1.07 GB
    (LLAMA_3_8B, 32768, 2 * 32 * 8 * 128 * 2 * 32768 / 1e9),   # 4.29 GB
    (LLAMA_3_70B, 8192, 2 * 80 * 8 * 128 * 2 * 8192 / 1e9),    # 327,680 B/token: 2.68 GB
    (LLAMA_3_70B, 32768, 2 * 80 * 8 * 128 * 2 * 32768 / 1e9),  # 10.74 GB
])
def test_kv_cache_by_hand(model, context, kv_gb):
    memory = memory_breakdown(_spec(model, context))
    assert memory["kv_counted"]
    assert memory["kv_cache_gb"] == pytest.approx(kv_gb)
    weights = model["parameters_billions"] * 2
    assert memory["total_gb"] == pytest.approx((weights + kv_gb + weights * 0.10 + 2.0) / 0.9)  # 90 % of the card


def test_sequences_multiply_the_kv_cache():
    one = memory_breakdown(_spec(LLAMA_3_8B, 8192))["kv_cache_gb"]
    assert memory_breakdown(_spec(LLAMA_3_8B, 8192, 16))["kv_cache_gb"] == pytest.approx(16 * one)


def test_without_a_context_the_old_rule_holds():
    assert memory_needed_gb(_spec(LLAMA_3_8B)) == pytest.approx(16 * 1.2 + 2)
    no_arch = {"parameters_billions": 8, "precision": "bf16"}
    assert memory_needed_gb(_spec(no_arch)) == pytest.approx(16 * 1.2 + 2)
    assert not memory_breakdown(_spec(no_arch))["kv_counted"]


# The estimate without the architecture: layers × KV heads × head dim ≈ 15,100 × P^0.4, rounded up.
# 8^0.4 = 2^1.2 = 2.297397; 15,100 × 2.297397 = 34,690.7 → 34,691 (Llama 3 8B really has 32 × 8 × 128 = 32,768).
# 70^0.4 = 5.470654; 15,100 × 5.470654 = 82,606.9 → 82,607 (Llama 3 70B: 80 × 8 × 128 = 81,920).
@pytest.mark.parametrize("params, dims, per_token, kv_8k, kv_32k", [
    (8, 34691, 2 * 34691 * 2, 1_136_754_688, 4_547_018_752),      # 138,764 B/token: 1.14 GB at 8k, 4.55 GB at 32k
    (70, 82607, 2 * 82607 * 2, 2_706_866_176, 10_827_464_704),    # 330,428 B/token: 2.71 GB at 8k, 10.83 GB at 32k
    (1, 15100, 2 * 15100 * 2, 494_796_800, 1_979_187_200),        # 60,400 B/token
])
def test_kv_cache_estimated_from_the_parameter_count_by_hand(params, dims, per_token, kv_8k, kv_32k):
    model = {"parameters_billions": params, "precision": "bf16"}
    assert kv_dims_estimated(params) == dims
    assert kv_per_token(model) == (per_token, True)
    for context, kv_bytes in ((8192, kv_8k), (32768, kv_32k)):
        memory = memory_breakdown(_spec(model, context))
        assert memory["kv_counted"] and memory["kv_estimated"]
        assert memory["kv_cache_gb"] == pytest.approx(kv_bytes / 1e9)
    # The 8B case the issue names: (16 + 4.547 + 1.6 + 2) / 0.9 = 26.83 GB, more than a 24 GB card.
    if params == 8:
        assert memory_needed_gb(_spec(model, 32768)) == pytest.approx(26.830020836)


def test_the_architecture_beats_the_estimate_and_fp32_doubles_it():
    assert kv_per_token(LLAMA_3_8B) == (131072, False)
    assert not memory_breakdown(_spec(LLAMA_3_8B, 8192))["kv_estimated"]
    assert kv_per_token({"parameters_billions": 8, "precision": "fp32"}) == (2 * 34691 * 4, True)
    assert kv_per_token({"precision": "bf16"}) == (None, False)  # no size, nothing to estimate from


@pytest.mark.django_db
def test_the_estimate_counts_no_seeded_family_short():
    """The rule is fitted to the families of catalog migration 0004: never below them, at most 6 % above."""
    from catalog.models import ModelFamily

    sizes = {"meta-llama/Meta-Llama-3-8B": 8, "meta-llama/Meta-Llama-3-70B": 70, "mistralai/Mistral-7B-v0.1": 7}
    for family in ModelFamily.objects.filter(name__in=sizes):
        exact = family.layers * family.kv_heads * family.head_dim
        assert exact <= kv_dims_estimated(sizes[family.name]) <= exact * 1.06, family.name


def test_largest_context_by_the_estimate():
    # 48 GB × 0.9 − 16 GB × 1.1 − 2 GB = 23.6 GB free; 23.6e9 / 138,764 B per token = 170,072 tokens.
    assert largest_context(_spec({"parameters_billions": 8, "precision": "bf16"}), 48) == 170072


def test_an_8b_model_at_32k_needs_more_than_a_24_gb_card_holds():
    # The case: 16 GB of weights on a 24 GB card leave about 2 GB for context once the runtime takes its
    # 90 % and its overhead; 32k tokens need 4.3 GB.
    assert memory_needed_gb(_spec(LLAMA_3_8B, 32768)) > 24
    assert largest_context(_spec(LLAMA_3_8B), 24) < 32768 < largest_context(_spec(LLAMA_3_8B), 48)


@pytest.mark.django_db
def test_the_recommender_picks_a_class_with_room_for_the_kv_cache(team):
    from tests.spec_helpers import complete, validate

    plain = validate(online_spec()).spec
    long_context = validate({**online_spec(), "model": {**online_spec()["model"], **LLAMA_3_8B},
                             "serving": {"max_context_tokens": 32768}}).spec
    small, _ = complete(plain)
    roomy, notes = complete(long_context)
    from catalog.selectors import catalog_snapshot

    gpus = catalog_snapshot().gpus
    vram = gpus[roomy["compute"]["gpu_class"]].vram_gb * roomy["compute"]["gpus_per_replica"]
    assert vram >= memory_needed_gb(long_context)
    reason = next(n["reason"] for n in notes if n["field"] == "compute.gpu_class")
    assert "KV cache for 32768 tokens" in reason
    room = next(n for n in notes if n["field"] == "serving.max_context_tokens")["reason"]
    assert int(room.split("about ")[1].split(" tokens")[0]) >= 32768  # the chosen class has room for it
    assert gpus[small["compute"]["gpu_class"]].vram_gb <= vram


@pytest.mark.django_db
def test_a_family_from_the_catalog_brings_its_architecture(team):
    from tests.spec_helpers import complete, validate

    spec = {**online_spec(), "serving": {"max_context_tokens": 32768}}
    spec["model"] = {**spec["model"], "family": "meta-llama/Meta-Llama-3-8B"}
    completed, notes = complete(validate(spec).spec)
    assert (completed["model"]["layers"], completed["model"]["kv_heads"], completed["model"]["head_dim"]) == (32, 8, 128)
    assert memory_breakdown(completed)["kv_counted"]
    assert any("Meta-Llama-3-8B: 32 layers" in n["reason"] for n in notes)
    spec["model"]["family"] = "acme/unknown-13b"
    errors = validate(spec).errors
    assert [(e.field, e.code) for e in errors] == [("model.family", "invalid_value")]
    assert "Meta-Llama-3-70B" in errors[0].message  # says which families there are


@pytest.mark.django_db
def test_staff_add_a_family_in_the_console_and_it_is_audited(login, staff):
    from audit.models import Event
    from catalog.models import ModelFamily

    response = login(staff).post("/admin/catalog/modelfamily/add/", {
        "name": "Qwen/Qwen2-7B", "layers": 28, "kv_heads": 4, "head_dim": 128,
        "source": "https://huggingface.co/Qwen/Qwen2-7B/blob/main/config.json"})
    assert response.status_code == 302, response.content[:500]
    assert ModelFamily.objects.filter(name="Qwen/Qwen2-7B", layers=28).exists()
    assert Event.objects.filter(kind="catalog", message__contains="Qwen/Qwen2-7B").exists()
