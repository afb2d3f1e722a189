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
"""

BYTES_PER_PARAMETER = {"fp32": 4.0, "fp16": 2.0, "bf16": 2.0, "int8": 1.0, "int4": 0.5}
ACTIVATION_OVERHEAD = 0.20  # weights share without an explicit KV cache (it covers a modest one)
ACTIVATIONS_WITH_KV = 0.10  # weights share for activations when the KV cache is counted on its own
RUNTIME_OVERHEAD_GB = 2.0
USABLE_FRACTION = 0.9  # of a card's memory a serving runtime fills (vLLM --gpu-memory-utilization default)


def weights_gb(params_billions, precision):
    return params_billions * BYTES_PER_PARAMETER[precision]


def kv_bytes_per_token(model):
    """Bytes of KV cache one token holds, or None when the architecture is not given."""
    layers, kv_heads, head_dim = (model.get(k) for k in ("layers", "kv_heads", "head_dim"))
    if not all(isinstance(v, int) and v > 0 for v in (layers, kv_heads, head_dim)):
        return None
    element = 4 if model.get("precision") == "fp32" else 2
    return 2 * layers * kv_heads * head_dim * element


def memory_breakdown(spec):
    """{"weights_gb", "kv_cache_gb", "overhead_gb", "total_gb", "kv_counted"} for a spec's model and serving."""
    model, serving = spec.get("model") or {}, spec.get("serving") or {}
    weights = weights_gb(model["parameters_billions"], model.get("precision", "bf16"))
    per_token = kv_bytes_per_token(model)
    context = serving.get("max_context_tokens")
    if per_token is None or not context:
        overhead = weights * ACTIVATION_OVERHEAD + RUNTIME_OVERHEAD_GB
        return {"weights_gb": weights, "kv_cache_gb": 0.0, "overhead_gb": overhead, "total_gb": weights + overhead,
                "kv_counted": False}
    kv = per_token * context * (serving.get("max_concurrent_sequences") or 1) / 1e9
    used = weights + kv + weights * ACTIVATIONS_WITH_KV + RUNTIME_OVERHEAD_GB
    total = used / USABLE_FRACTION  # the card the runtime fills only 90 % of
    return {"weights_gb": weights, "kv_cache_gb": kv, "overhead_gb": total - weights - kv, "total_gb": total,
            "kv_counted": True}


def memory_needed_gb(spec):
    return memory_breakdown(spec)["total_gb"]


def largest_context(spec, vram_gb):
    """The most context tokens (one sequence) that fit next to the weights in vram_gb; None without architecture."""
    per_token = kv_bytes_per_token(spec.get("model") or {})
    if per_token is None:
        return None
    model = spec["model"]
    weights = weights_gb(model["parameters_billions"], model.get("precision", "bf16"))
    free = vram_gb * USABLE_FRACTION - weights * (1 + ACTIVATIONS_WITH_KV) - RUNTIME_OVERHEAD_GB
    return max(0, int(free * 1e9 // per_token))
