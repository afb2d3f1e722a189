"""GPU memory a model needs to serve: its weights, the KV cache for the context it must hold, and overhead.

Without a context length the old rule holds (weights × 1.2 + 2 GB: the 20 % covers activations and
a KV cache at modest batch sizes). With `serving.max_context_tokens` and the model's architecture
(`model.layers`, `model.kv_heads`, `model.head_dim`, as in its config.json: num_hidden_layers,
num_key_value_heads, hidden_size / num_attention_heads) the KV cache is counted exactly:

    KV cache bytes = 2 (keys and values) × layers × KV heads × head dim × bytes per element
                     × context tokens × concurrent sequences

plus 10 % of the weights for activations and 2 GB for the CUDA context and the runtime, all within
90 % of the card: vLLM's `--gpu-memory-utilization` defaults to 0.9 (engine arguments). The KV cache
is kept in 16-bit floats (vLLM's kv_cache_dtype "auto" follows the model's dtype; an fp32 model keeps
4 bytes), so an int8 or int4 model still pays 2 bytes per element. GB here are 10^9 bytes, like VRAM.

Without the architecture (no `model.family`, no layers/kv_heads/head_dim) but with a context, the KV cache
is estimated from the parameter count P (billions):

    layers × KV heads × head dim ≈ 15,100 × P^0.4, rounded up

fitted to the families seeded in catalog migration 0004 (config.json): Llama 3 8B 32 × 8 × 128 = 32,768
(estimate 34,691), Mistral 7B 32 × 8 × 128 = 32,768 (32,887), Llama 3 70B 80 × 8 × 128 = 81,920 (82,607).
The constant is the smallest multiple of 100 that counts none of them short. It assumes grouped-query
attention as those families use; a model with one KV head per attention head (Llama 2 7B: 32 × 32 × 128)
holds up to four times more, so the estimate is always labelled and the three numbers make it exact.
"""

import math

BYTES_PER_PARAMETER = {"fp32": 4.0, "fp16": 2.0, "bf16": 2.0, "int8": 1.0, "int4": 0.5}
ACTIVATION_OVERHEAD = 0.20  # weights share without an explicit KV cache (it covers a modest one)
ACTIVATIONS_WITH_KV = 0.10  # weights share for activations when the KV cache is counted on its own
RUNTIME_OVERHEAD_GB = 2.0
USABLE_FRACTION = 0.9  # of a card's memory a serving runtime fills (vLLM --gpu-memory-utilization default)
ESTIMATE_KV_DIMS = 15100  # layers × KV heads × head dim of a 1B-parameter model, by the rule above
ESTIMATE_EXPONENT = 0.4


def weights_gb(params_billions, precision):
    return params_billions * BYTES_PER_PARAMETER[precision]


def _kv_element_bytes(model):
    return 4 if model.get("precision") == "fp32" else 2


def kv_bytes_per_token(model):
    """Bytes of KV cache one token holds, or None when the architecture is not given."""
    layers, kv_heads, head_dim = (model.get(k) for k in ("layers", "kv_heads", "head_dim"))
    if not all(isinstance(v, int) and v > 0 for v in (layers, kv_heads, head_dim)):
        return None
    return 2 * layers * kv_heads * head_dim * _kv_element_bytes(model)


def kv_dims_estimated(params_billions):
    """layers × KV heads × head dim estimated from the parameter count (the rule in this module's docstring)."""
    return math.ceil(ESTIMATE_KV_DIMS * params_billions ** ESTIMATE_EXPONENT)


def kv_per_token(model):
    """(bytes of KV cache per token, estimated?): exact from the architecture, else estimated from the size."""
    exact = kv_bytes_per_token(model)
    if exact is not None:
        return exact, False
    params = model.get("parameters_billions")
    if not isinstance(params, (int, float)) or isinstance(params, bool) or params <= 0:
        return None, False
    return 2 * kv_dims_estimated(params) * _kv_element_bytes(model), True


def memory_breakdown(spec):
    """{"weights_gb", "kv_cache_gb", "overhead_gb", "total_gb", "kv_counted", "kv_estimated"} for a spec's model
    and serving; `kv_estimated`: the KV cache comes from the parameter count, not the architecture."""
    model, serving = spec.get("model") or {}, spec.get("serving") or {}
    weights = weights_gb(model["parameters_billions"], model.get("precision", "bf16"))
    per_token, estimated = kv_per_token(model)
    context = serving.get("max_context_tokens")
    if per_token is None or not context:
        overhead = weights * ACTIVATION_OVERHEAD + RUNTIME_OVERHEAD_GB
        return {"weights_gb": weights, "kv_cache_gb": 0.0, "overhead_gb": overhead, "total_gb": weights + overhead,
                "kv_counted": False, "kv_estimated": False}
    kv = per_token * context * (serving.get("max_concurrent_sequences") or 1) / 1e9
    used = weights + kv + weights * ACTIVATIONS_WITH_KV + RUNTIME_OVERHEAD_GB
    total = used / USABLE_FRACTION  # the card the runtime fills only 90 % of
    return {"weights_gb": weights, "kv_cache_gb": kv, "overhead_gb": total - weights - kv, "total_gb": total,
            "kv_counted": True, "kv_estimated": estimated}


def memory_needed_gb(spec):
    return memory_breakdown(spec)["total_gb"]


def largest_context(spec, vram_gb):
    """The most context tokens (one sequence) that fit next to the weights in vram_gb (the KV cache per token
    estimated from the size when the architecture is unknown); None without a size."""
    per_token, _estimated = kv_per_token(spec.get("model") or {})
    if per_token is None:
        return None
    model = spec["model"]
    weights = weights_gb(model["parameters_billions"], model.get("precision", "bf16"))
    free = vram_gb * USABLE_FRACTION - weights * (1 + ACTIVATIONS_WITH_KV) - RUNTIME_OVERHEAD_GB
    return max(0, int(free * 1e9 // per_token))
