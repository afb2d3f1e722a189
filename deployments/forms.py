"""Wizard step forms. Field names mirror the spec: `model__uri` is `model.uri`.

The forms only parse (text to number, "yes" to true). Whether a value is allowed
is decided by `deployment_preview`, the validator the API uses, and its errors
are attached to the field whose spec path they name.
"""

from django import forms
from django.core.exceptions import ValidationError

from catalog.selectors import gpu_classes_list, regions_list, storage_tiers_list

from .secret_refs import looks_like_secret

YES_NO = [("false", "No"), ("true", "Yes")]
RECOMMENDED = ("", "Recommended for me")


def path_of(name):
    return name.replace("__", ".")


def name_of(path):
    return path.replace(".", "__")


def _bool(value):
    return value == "true"


def _literal_secret_refuse(value):
    # Refused here, not only by the validator: an invalid field never reaches the stored draft.
    if looks_like_secret(value):
        raise ValidationError("This looks like a key itself. Store the object-store keys in a Kubernetes Secret "
                              "and give only its name here.", code="plaintext_secret")


class StepForm(forms.Form):
    title = ""

    def __init__(self, *args, validate_url=None, spec=None, **kwargs):
        if spec is not None and "initial" not in kwargs:
            kwargs["initial"] = self.initial_from_spec(spec)
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            # The spec validator decides what is missing, with the same message as the API.
            field.required = False
            if validate_url and not field.disabled:
                choice = isinstance(field.widget, (forms.Select, forms.RadioSelect))
                field.widget.attrs.update({
                    "hx-post": f"{validate_url}?field={name}",
                    "hx-trigger": "change" if choice else "blur",
                    "hx-target": f"#err-{name}",
                    "hx-swap": "outerHTML",
                    "hx-include": "closest form",
                    "hx-sync": "closest form:queue all",
                })

    @classmethod
    def initial_from_spec(cls, spec):
        initial = {}
        for name in cls.base_fields:
            node = spec
            for key in path_of(name).split("."):
                node = node.get(key) if isinstance(node, dict) else None
            if isinstance(node, bool):
                node = "true" if node else "false"
            if node is not None:
                initial[name] = node
        return initial

    def spec_values(self):
        """{dotted spec path: value} for the fields the user may change; None means "recommend it"."""
        return {path_of(n): v for n, v in self.cleaned_data.items() if not self.fields[n].disabled}

    @classmethod
    def spec_paths(cls):
        return [path_of(n) for n in cls.base_fields]


class BasicsForm(StepForm):
    title = "Basics"
    team = forms.ChoiceField(label="Team", help_text="Teams where you may deploy (deployer or owner).")
    name = forms.CharField(label="Deployment name", max_length=60,
                           help_text="Lowercase letters, digits and '-', e.g. llama-chat.")
    workload = forms.ChoiceField(label="Workload", widget=forms.RadioSelect, choices=[
        ("online", "Online: request/response, each answer in under a minute"),
        ("batch", "Batch: a job over many inputs, or anything that runs longer than a minute"),
    ])
    runtime__image = forms.CharField(label="Container image", max_length=300,
                                     help_text="With a tag or digest, e.g. ghcr.io/acme/llm-server:1.4.")

    def __init__(self, *args, teams=(), editing=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].choices = [("", "Choose a team")] + [(t.slug, f"{t.name} ({t.slug})") for t in teams]
        if editing:
            # Team and name identify the objects in the cluster: an edit keeps them.
            for name in ("team", "name"):
                self.fields[name].disabled = True
                self.fields[name].help_text = "Fixed for an existing deployment."
            self.fields["team"].choices = [(self.initial.get("team"), self.initial.get("team"))]


class ModelStorageForm(StepForm):
    title = "Model and storage"
    model__uri = forms.CharField(label="Model URI", max_length=500,
                                 help_text="Where the checkpoint lives: s3://bucket/path or pvc://claim/path.")
    model__parameters_billions = forms.FloatField(label="Size (billions of parameters)",
                                                  widget=forms.NumberInput(attrs={"step": "any"}))
    model__precision = forms.ChoiceField(label="Precision", choices=[
        ("bf16", "bf16 (2 bytes per parameter)"), ("fp16", "fp16 (2 bytes)"), ("fp32", "fp32 (4 bytes)"),
        ("int8", "int8 (1 byte)"), ("int4", "int4 (half a byte)"),
    ])
    model__format = forms.ChoiceField(label="Checkpoint format", choices=[
        ("", "Detect from the URI"),
        ("tensorizer", "Tensorizer (streams straight to the GPU)"), ("safetensors", "safetensors"),
        ("other", "Other"),
    ])
    storage__tier = forms.ChoiceField(label="Storage tier")
    storage__credentials_secret = forms.CharField(
        label="Object-store credentials Secret", max_length=253, validators=[_literal_secret_refuse],
        help_text="The name of a Kubernetes Secret in your team's namespace; never the keys themselves.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["storage__tier"].choices = [RECOMMENDED] + [(t.slug, t.name) for t in storage_tiers_list()]


class ComputeForm(StepForm):
    title = "Compute"
    compute__gpu_class = forms.ChoiceField(label="GPU class")
    compute__gpus_per_replica = forms.TypedChoiceField(
        label="GPUs per replica", coerce=int, empty_value=None,
        choices=[RECOMMENDED, ("1", "1"), ("2", "2"), ("4", "4"), ("8", "8")],
        help_text="More than one GPU per replica needs NVLink between them.")
    compute__region = forms.ChoiceField(label="Region")
    region_preference = forms.ChoiceField(label="How should the region be chosen?", widget=forms.RadioSelect, choices=[
        ("best-availability", "Where the right GPUs are available (recommended)"),
        ("closest-to-users", "Closest to my users"),
    ])
    models_per_gpu = forms.IntegerField(
        label="Models per GPU", help_text="Several models sharing one GPU (bin packing) or swapped in and out.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["compute__gpu_class"].choices = [RECOMMENDED] + [
            (g.name, f"{g.name} · {g.vram_gb} GB · ${g.price_per_gpu_hour:.2f}/GPU-hour")
            for g in gpu_classes_list(only_available=True)
        ]
        self.fields["compute__region"].choices = [RECOMMENDED] + [
            (r.code, f"{r.code} · {r.name}") for r in regions_list() if r.available
        ]


class ScalingForm(StepForm):
    title = "Scaling"
    scaling__latency_tolerance = forms.ChoiceField(label="How much high-end (p95) latency is acceptable?", choices=[
        RECOMMENDED,
        ("strict", "Strict: keep p95 low (target utilization 70 %)"),
        ("moderate", "Moderate (85 %, the usual choice)"),
        ("relaxed", "Relaxed: cheapest, p95 suffers under bursts (95 %)"),
    ])
    scaling__min_replicas = forms.IntegerField(label="Minimum replicas", help_text="0 scales to zero when idle.")
    scaling__max_replicas = forms.IntegerField(label="Maximum replicas")
    scaling__scale_to_zero_retention = forms.CharField(
        label="Keep the last replica warm for", max_length=20,
        help_text="After traffic stops, before scaling to zero: e.g. 30m; at most 1h.")
    scaling__target_utilization_percent = forms.IntegerField(
        label="Target utilization (%)", help_text="Leave empty to derive it from the latency tolerance.")
    scaling__target_concurrency = forms.IntegerField(label="Target concurrency (requests per replica)")
    request_queue = forms.TypedChoiceField(
        label="Put a request queue in front of the service?", widget=forms.RadioSelect, coerce=_bool,
        empty_value=None, choices=[("false", "No, rely on autoscaling (recommended)"), ("true", "Yes")])


class BatchForm(StepForm):
    title = "Batch run"
    batch__inputs_uri = forms.CharField(label="Inputs URI", max_length=500, help_text="e.g. s3://data/prompts/")
    batch__outputs_uri = forms.CharField(label="Outputs URI", max_length=500, help_text="e.g. s3://data/completions/")
    batch__parallelism = forms.IntegerField(label="Parallelism (pods at once)")
    batch__timeout_minutes = forms.IntegerField(label="Timeout (minutes)")
    batch__retries = forms.IntegerField(label="Retries per shard")


class AccessForm(StepForm):
    title = "Access and batching"
    access__visibility = forms.ChoiceField(label="Who can call it?", widget=forms.RadioSelect, choices=[
        ("public", "Public: an HTTPS URL reachable from the internet"),
        ("cluster-local", "Cluster-local: only workloads in the cluster"),
    ])
    runtime__protocol = forms.ChoiceField(label="Protocol", choices=[("http", "HTTP"), ("grpc", "gRPC")])
    runtime__port = forms.IntegerField(label="Container port")
    target = forms.ChoiceField(label="Serve with", choices=[
        ("knative", "Knative Service (default)"), ("kserve", "KServe InferenceService"),
    ])
    access__cross_cloud_clients = forms.TypedChoiceField(
        label="Do requests come from another cloud platform?", widget=forms.RadioSelect, coerce=_bool,
        empty_value=None, choices=YES_NO)
    batching__max_batch_size = forms.IntegerField(
        label="Server-side batching: largest batch", help_text="Leave empty for no server-side batching.")
    batching__max_latency_ms = forms.IntegerField(
        label="Server-side batching: longest wait (ms)", help_text="How long a request may wait for a batch to fill.")


class BatchAccessForm(StepForm):
    """Batch runs have no endpoint and no request batching: nothing to ask on this step."""
    title = "Access and batching"


def form_class_for(step, workload):
    online = workload != "batch"
    return {
        1: BasicsForm,
        2: ModelStorageForm,
        3: ComputeForm,
        4: ScalingForm if online else BatchForm,
        5: AccessForm if online else BatchAccessForm,
    }[step]


STEP_TITLES = {1: "Basics", 2: "Model and storage", 3: "Compute", 4: "Scaling", 5: "Access and batching",
               6: "Review"}
