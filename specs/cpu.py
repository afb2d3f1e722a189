"""CPU nodes for small models (`compute.accelerator: cpu`): when they are enough, what a replica gets.

Where CPU pods run (CoreWeave, coreweave/kubernetes-cloud coreweave-kubernetes/node-types.md, "CPU
Availability", and label-selectors.md): CPU-only nodes carry `node.coreweave.cloud/cpu` with the CPU family,
one of intel-xeon-v1, intel-xeon-v2, intel-xeon-v4, amd-epyc-rome, amd-epyc-milan, selected with an `In`
term; "workloads without GPU requests are always scheduled on CPU nodes". Gantry requires the families
with AVX2 (Xeon v4, Epyc Rome and Milan): the CPU builds of PyTorch, vLLM and llama.cpp need it for usable
speed, and Xeon v1/v2 (Sandy and Ivy Bridge) lack it. A pod without a GPU is billed by the vCPUs it
requests and its RAM (docs.coreweave.com/resources/billing-and-charges), at the catalog's CPU rate.

When CPU is enough (the recommender's threshold): generating a token reads every weight from RAM once, so
a replica makes about (its share of the memory bandwidth) / (weight bytes) tokens per second per sequence.
A few cores get tens of GB/s; with at most 2 GB of weights (a 1B model in bf16, 2B in int8, 4B in int4)
that is roughly 10-20 tokens/s, acceptable only where high-end latency may suffer:
`scaling.latency_tolerance: relaxed`. Anything larger, or any stricter tolerance, is offered a GPU only.
"""

import math

from .memory import weights_gb

CPU, GPU = "cpu", "gpu"
CPU_NODE_LABEL = "node.coreweave.cloud/cpu"
CPU_NODE_FAMILIES = ("amd-epyc-milan", "amd-epyc-rome", "intel-xeon-v4")  # those with AVX2 (docstring)
CPU_MAX_WEIGHTS_GB = 2.0
DEFAULT_VCPUS = 8
MIN_MEMORY_GI = 8
RAM_HEADROOM = 1.5  # RAM = 1.5 × the memory the model needs: the checkpoint is read while the weights load
GB_PER_GIB = 1.073741824
GPU_FIELDS = ("gpu_class", "gpus_per_replica")


def on_cpu(spec):
    return (spec.get("compute") or {}).get("accelerator") == CPU


def cpu_suffices(spec):
    """A small model served online with a relaxed latency tolerance: CPU nodes are worth offering."""
    model = spec.get("model") or {}
    params = model.get("parameters_billions")
    if spec.get("workload") != "online" or not isinstance(params, (int, float)):
        return False
    tolerance = (spec.get("scaling") or {}).get("latency_tolerance")
    return tolerance == "relaxed" and weights_gb(params, model.get("precision", "bf16")) <= CPU_MAX_WEIGHTS_GB


def cpu_memory_gi(need_gb):
    """GiB of RAM for a replica whose model needs need_gb (memory.memory_breakdown's total)."""
    return max(MIN_MEMORY_GI, math.ceil(need_gb * RAM_HEADROOM))


def memory_gb(memory_gi):
    return memory_gi * GB_PER_GIB
