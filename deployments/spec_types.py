"""The v1 deployment spec as typed objects, exactly as ../shared/SPEC.md names it."""

from typing import Literal, NotRequired, TypedDict


class Runtime(TypedDict):
    image: str
    args: NotRequired[list[str]]
    port: NotRequired[int]
    protocol: NotRequired[Literal["http", "grpc"]]
    env: NotRequired[dict[str, str]]
    secret_env: NotRequired[dict[str, str]]
    timeout_seconds: NotRequired[int]  # request timeout; Knative allows at most 600


class Model(TypedDict):
    uri: str
    parameters_billions: float
    precision: Literal["fp32", "fp16", "bf16", "int8", "int4"]
    format: Literal["tensorizer", "safetensors", "other"]


class Storage(TypedDict, total=False):
    tier: Literal["object", "accelerated-object", "nvme-pvc"]
    pvc_size_gi: int
    credentials_secret: str


class Compute(TypedDict, total=False):
    gpu_class: str
    gpus_per_replica: int
    region: str
    cpu: float
    memory_gi: int


class Scaling(TypedDict, total=False):
    min_replicas: int
    max_replicas: int
    target_concurrency: int
    target_utilization_percent: int
    scale_to_zero_retention: str
    latency_tolerance: Literal["strict", "moderate", "relaxed"]


class Batching(TypedDict):
    max_batch_size: int
    max_latency_ms: int


class Batch(TypedDict, total=False):
    inputs_uri: str
    outputs_uri: str
    parallelism: int
    timeout_minutes: int
    retries: int


class Access(TypedDict, total=False):
    visibility: Literal["public", "cluster-local"]
    cross_cloud_clients: bool


class DeploymentSpec(TypedDict):
    """The spec exactly as SPEC.md names it (v1)."""

    name: str
    team: str
    workload: Literal["online", "batch"]
    target: NotRequired[Literal["knative", "kserve", "argo"]]
    runtime: Runtime
    model: Model
    storage: NotRequired[Storage]
    compute: NotRequired[Compute]
    scaling: NotRequired[Scaling]
    batching: NotRequired[Batching]
    batch: NotRequired[Batch]
    access: NotRequired[Access]
    request_queue: NotRequired[bool]
    models_per_gpu: NotRequired[int]
    region_preference: NotRequired[Literal["best-availability", "closest-to-users"]]


SECTIONS = {
    "runtime": set(Runtime.__annotations__),
    "model": set(Model.__annotations__),
    "storage": set(Storage.__annotations__),
    "compute": set(Compute.__annotations__),
    "scaling": set(Scaling.__annotations__),
    "batching": set(Batching.__annotations__),
    "batch": set(Batch.__annotations__),
    "access": set(Access.__annotations__),
}
TOP_LEVEL = set(DeploymentSpec.__annotations__)
