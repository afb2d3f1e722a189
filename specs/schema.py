"""The v1 deployment spec (../shared/SPEC.md), declared once.

Every field the spec has is a `Field` below, with its type, its allowed values, its bounds, its
plain default and the words people read about it. The validator (validation.py) reads the
names, choices, bounds and defaults from here; the OpenAPI description
(deployments/api/spec_serializers.py) and the wizard's form fields (deployments/forms.py) are
built from the same entries, so a field added here appears in all three.
"""

from dataclasses import dataclass

# Field types (JSON): the validator, the serializers and the forms each map these.
# Every number has a finite upper bound: 1e308 replicas or parameters overflow the cost arithmetic.
STR, INT, NUMBER, BOOL, STR_LIST, STR_MAP = "string", "integer", "number", "boolean", "string list", "string map"
MAX_REPLICAS = 1000


@dataclass(frozen=True)
class Field:
    path: str  # "model.precision"; top-level fields have no dot
    type: str
    label: str  # what the wizard asks
    help: str = ""  # one sentence for the API docs and the wizard
    required: bool = False  # must be in the spec a user sends (before recommendations)
    choices: tuple = ()  # ((value, label), ...)
    minimum: float | None = None
    maximum: float | None = None
    default: object = None  # filled in by the validator when left out (judgement calls are recommend.py's)
    workload: str | None = None  # "online" or "batch" when it applies to one only

    @property
    def section(self):
        return self.path.split(".")[0] if "." in self.path else None

    @property
    def name(self):
        return self.path.split(".")[-1]

    @property
    def values(self):
        return tuple(value for value, _label in self.choices)


@dataclass(frozen=True)
class Section:
    name: str
    label: str
    help: str = ""
    required: bool = False
    workload: str | None = None


SECTIONS_DECLARED = (
    Section("runtime", "Runtime", "The container that serves the model", required=True),
    Section("model", "Model", "The checkpoint to serve", required=True),
    Section("storage", "Storage", "Where the weights are read from; recommended if left out"),
    Section("compute", "Compute", "GPU class and GPUs per replica, or CPU nodes, and region; recommended if "
            "left out"),
    Section("scaling", "Scaling", "Knative autoscaling, including scale to zero", workload="online"),
    Section("batching", "Server-side batching", "Requests grouped into batches by the server", workload="online"),
    Section("batch", "Batch run", "Inputs, outputs and fan-out of a batch run", workload="batch"),
    Section("serving", "Serving", "How much context the server must hold: counted in the GPU memory",
            workload="online"),
    Section("access", "Access", "Who can call the service"),
)

FIELDS = (
    Field("name", STR, "Deployment name", "A DNS-1123 label of 1-40 characters, e.g. llama-chat", required=True),
    Field("team", STR, "Team", "The slug of a team you belong to", required=True),
    Field("workload", STR, "Workload", "online for request/response under a minute; batch for anything longer",
          required=True, choices=(
              ("online", "Online: request/response, each answer in under a minute"),
              ("batch", "Batch: a job over many inputs, or anything that runs longer than a minute"))),
    Field("target", STR, "Serve with", "online: knative (default) or kserve; batch always runs as argo", choices=(
        ("knative", "Knative Service (default)"), ("kserve", "KServe InferenceService"), ("argo", "Argo Workflow"))),
    Field("runtime.kind", STR, "Serving runtime", "The server in the image: Gantry passes it the model, the GPUs "
          "and the port the way that server reads them; custom runs the image with your own args", choices=(
              ("vllm", "vLLM (OpenAI-compatible server)"), ("tgi", "Text Generation Inference"),
              ("triton", "NVIDIA Triton"), ("custom", "Custom: my image, my args")), default="custom"),
    Field("runtime.health_path", STR, "Health check path", "custom only: the HTTP path that answers 200 once the "
          "model is loaded; without it the readiness check is a TCP connect"),
    Field("runtime.startup_timeout_seconds", INT, "Time allowed to load the model (seconds)",
          "How long the startup probe waits; recommended from the cold-start estimate; Knative's default "
          "progress deadline is 600", minimum=10, maximum=600),
    Field("runtime.image", STR, "Container image", "An image reference with a tag or digest, "
          "e.g. ghcr.io/acme/llm-server:1.4; vLLM, TGI and Triton default to a pinned release of their own image"),
    Field("runtime.command", STR_LIST, "Container command", "custom only: replaces the image's entrypoint; "
          "one item per line in the wizard"),
    Field("runtime.args", STR_LIST, "Container arguments", "Arguments passed to the container (for vLLM, TGI "
          "and Triton: added after the ones Gantry passes); one per line in the wizard"),
    Field("runtime.port", INT, "Container port", "The port the server listens on", minimum=1, maximum=65535,
          default=8080),
    Field("runtime.protocol", STR, "Protocol", "http or grpc", choices=(("http", "HTTP"), ("grpc", "gRPC")),
          default="http"),
    Field("runtime.env", STR_MAP, "Environment", "Plain values only; secrets go in secret_env; NAME=value, "
          "one per line in the wizard"),
    Field("runtime.secret_env", STR_MAP, "Environment from Secrets",
          'NAME -> "<secret name>/<key>", rendered as a secretKeyRef, never as a value; NAME=secret/key, one per '
          'line in the wizard'),
    Field("runtime.timeout_seconds", INT, "Request timeout (seconds)", "At most 600, as Knative allows", minimum=1,
          maximum=600),
    Field("model.uri", STR, "Model URI", "Where the checkpoint lives: s3://bucket/path or pvc://claim/path",
          required=True),
    Field("model.parameters_billions", NUMBER, "Size (billions of parameters)",
          "The model size: it decides which GPU fits", required=True, minimum=0, maximum=10000),
    Field("model.precision", STR, "Precision", "Bytes per parameter of the weights", choices=(
        ("bf16", "bf16 (2 bytes per parameter)"), ("fp16", "fp16 (2 bytes)"), ("fp32", "fp32 (4 bytes)"),
        ("int8", "int8 (1 byte)"), ("int4", "int4 (half a byte)")), default="bf16"),
    Field("model.family", STR, "Model family", "A family from the catalog (e.g. meta-llama/Meta-Llama-3-8B): "
          "its layers, KV heads and head dimension are filled in"),
    Field("model.layers", INT, "Layers", "From the model's config.json (num_hidden_layers): with kv_heads and "
          "head_dim, the KV cache is counted exactly", minimum=1, maximum=1000),
    Field("model.kv_heads", INT, "KV heads", "num_key_value_heads in the model's config.json", minimum=1,
          maximum=1024),
    Field("model.head_dim", INT, "Head dimension", "hidden_size / num_attention_heads in the model's config.json",
          minimum=1, maximum=4096),
    Field("model.format", STR, "Checkpoint format", "Detected from the URI when left out", choices=(
        ("tensorizer", "Tensorizer (streams straight to the GPU)"), ("safetensors", "safetensors"),
        ("other", "Other"))),
    Field("storage.tier", STR, "Storage tier", "Recommended from the model size if left out", choices=(
        ("object", "Object storage"), ("accelerated-object", "Accelerated object storage"),
        ("nvme-pvc", "NVMe volume (PVC)"))),
    Field("storage.pvc_size_gi", INT, "Volume size (GiB)", "nvme-pvc only", minimum=1, maximum=100000),
    Field("storage.endpoint", STR, "Object storage endpoint", "The S3 endpoint the pods read the model from; "
          "filled in from the region's catalog entry for the storage tier (accelerated: the node-local cache)"),
    Field("storage.credentials_secret", STR, "Object-store credentials Secret",
          "The name of a Kubernetes Secret in your team's namespace; never the keys themselves"),
    Field("compute.accelerator", STR, "Run on", "gpu (default) or cpu: CPU nodes suit small models (up to 2 GB of "
          "weights) when latency may suffer; no GPU class or GPU count then", choices=(
              ("gpu", "GPU nodes (default)"), ("cpu", "CPU nodes: small models, relaxed latency, cheapest")),
          default="gpu"),
    Field("compute.gpu_class", STR, "GPU class", "A catalog GPU class; recommended if left out"),
    Field("compute.gpus_per_replica", INT, "GPUs per replica",
          "More than one GPU per replica is fastest with NVLink between them; over PCIe it works, with a warning",
          minimum=1, maximum=8),
    Field("compute.region", STR, "Region", "A catalog region; recommended by GPU availability if left out"),
    Field("compute.cpu", NUMBER, "CPU cores", "Per replica; recommended if left out", minimum=0, maximum=1024),
    Field("compute.memory_gi", INT, "Memory (GiB)", "Per replica; recommended if left out", minimum=1,
          maximum=16384),
    Field("scaling.min_replicas", INT, "Minimum replicas", "0 scales to zero when idle", minimum=0,
          maximum=MAX_REPLICAS, workload="online"),
    Field("scaling.max_replicas", INT, "Maximum replicas", "The most replicas autoscaling adds", minimum=1,
          maximum=MAX_REPLICAS, workload="online"),
    Field("scaling.target_concurrency", INT, "Target concurrency (requests per replica)",
          "Knative's per-replica target", minimum=1, maximum=10000, workload="online"),
    Field("scaling.target_utilization_percent", INT, "Target utilization (%)",
          "Derived from the latency tolerance when left out", minimum=1, maximum=100, workload="online"),
    Field("scaling.scale_to_zero_retention", STR, "Keep the last replica warm for",
          "After traffic stops, before scaling to zero: e.g. 30m; at most 1h", workload="online"),
    Field("scaling.latency_tolerance", STR, "How much high-end (p95) latency is acceptable?",
          "strict, moderate or relaxed: sets the target utilization", choices=(
              ("strict", "Strict: keep p95 low (target utilization 70 %)"),
              ("moderate", "Moderate (85 %, the usual choice)"),
              ("relaxed", "Relaxed: cheapest, p95 suffers under bursts (95 %)")), workload="online"),
    Field("batching.max_batch_size", INT, "Server-side batching: largest batch",
          "Required with batching", required=True, minimum=1, maximum=1024, workload="online"),
    Field("batching.max_latency_ms", INT, "Server-side batching: longest wait (ms)",
          "How long a request may wait for a batch to fill", required=True, minimum=1, maximum=60000,
          workload="online"),
    Field("batch.inputs_uri", STR, "Inputs URI", "e.g. s3://data/prompts/", required=True, workload="batch"),
    Field("batch.outputs_uri", STR, "Outputs URI", "e.g. s3://data/completions/", required=True, workload="batch"),
    Field("batch.parallelism", INT, "Parallelism (pods at once)", "Shards run at once", minimum=1, maximum=256,
          workload="batch"),
    Field("batch.timeout_minutes", INT, "Timeout (minutes)", "The longest a run may take", minimum=1,
          maximum=7 * 24 * 60, workload="batch"),
    Field("batch.retries", INT, "Retries per shard", "How often a failed shard is tried again", minimum=0,
          maximum=10, workload="batch"),
    Field("batch.schedule", STR, "Schedule (cron)", "Run on a schedule instead of once: five cron fields "
          "(e.g. `0 3 * * *`, 03:00 every day) or @daily/@hourly; rendered as an Argo CronWorkflow",
          workload="batch"),
    Field("batch.timezone", STR, "Schedule time zone", "An IANA time zone for the schedule, e.g. Europe/Berlin "
          "(default: the cluster's, usually UTC)", workload="batch"),
    Field("serving.max_context_tokens", INT, "Longest context (tokens)", "Prompt plus answer the server must "
          "hold per sequence; sizes the KV cache and the server's maximum length", minimum=1, maximum=1048576,
          workload="online"),
    Field("serving.max_concurrent_sequences", INT, "Sequences at once", "How many sequences share the KV cache "
          "at full context (default 1)", minimum=1, maximum=1024, workload="online"),
    Field("access.visibility", STR, "Who can call it?", "public or cluster-local", choices=(
        ("public", "Public: reachable from the internet, at the URL the cluster gives"),
        ("cluster-local", "Cluster-local: only workloads in the cluster"))),
    Field("access.cross_cloud_clients", BOOL, "Do requests come from another cloud platform?",
          "Requests arrive from outside this cloud"),
    Field("request_queue", BOOL, "Put a request queue in front of the service?",
          "Probably not needed: rely on autoscaling"),
    Field("models_per_gpu", INT, "Models per GPU", "More than 1 is refused (bin_packing): never pack models "
          "onto one GPU", minimum=1, maximum=1000),
    Field("region_preference", STR, "How should the region be chosen?", "Choose by GPU availability", choices=(
        ("best-availability", "Where the right GPUs are available (recommended)"),
        ("closest-to-users", "Closest to my users"))),
)

BY_PATH = {f.path: f for f in FIELDS}
SECTION_BY_NAME = {s.name: s for s in SECTIONS_DECLARED}
# The names the validator accepts: a section's field names, and the top-level keys.
SECTIONS = {s.name: {f.name for f in FIELDS if f.section == s.name} for s in SECTIONS_DECLARED}
TOP_LEVEL = {f.path for f in FIELDS if f.section is None} | set(SECTIONS)


def spec_field(path):
    """The declared field at a dotted path (KeyError for a path the spec does not have)."""
    return BY_PATH[path]


def section_fields(name):
    return [f for f in FIELDS if f.section == name]


# A completed or user-written spec is a plain JSON object with the fields above.
DeploymentSpec = dict
