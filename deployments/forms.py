"""Wizard step forms. Field names mirror the spec: `model__uri` is `model.uri`.

Each field's label, help, type and choices come from specs/schema.py (spec_form_field).
The forms only parse (text to number, "yes" to true). Whether a value is allowed
is decided by `deployment_preview`, the validator the API uses, and its errors
are attached to the field whose spec path they name.
"""

import json

from django import forms
from django.core.exceptions import ValidationError

from catalog.selectors import gpu_classes_list, model_families_list, regions_list, storage_tiers_list
from specs.formats import money_rate
from specs.recommend import GPU_COUNTS
from specs.runtimes import DEFAULT_IMAGES
from specs.schema import BOOL, INT, NUMBER, STR_LIST, STR_MAP, spec_field
from specs.secrets import SENSITIVE_NAME_RE, looks_like_secret

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


def _text(field, value):
    """The textarea's text; a NUL byte is refused here (PostgreSQL refuses it in JSON)."""
    text = forms.CharField.to_python(field, value) or ""
    if "\x00" in text:
        raise ValidationError("Null characters are not allowed.", code="null_characters_not_allowed")
    return text


class LinesField(forms.CharField):
    """A list of strings, one per line (blank lines dropped); a literal secret is refused before it is stored."""

    widget = forms.Textarea(attrs={"rows": 3, "spellcheck": "false"})

    def to_python(self, value):
        lines = [line.strip() for line in _text(self, value).splitlines()]
        return [line for line in lines if line] or None

    def validate(self, value):
        for line in value or ():
            if looks_like_secret(line) or looks_like_secret(line.partition("=")[2]):
                raise ValidationError(f"`{line[:12]}…` looks like a secret. Put it in a Kubernetes Secret and "
                                      "expose it under “Environment from Secrets”, e.g. `--api-key=$(API_KEY)`.",
                                      code="plaintext_secret")


class PairsField(forms.CharField):
    """A map written NAME=value, one per line; `references`: the values are Secret references, not values."""

    widget = forms.Textarea(attrs={"rows": 3, "spellcheck": "false"})

    def __init__(self, *args, references=False, **kwargs):
        self.references = references
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        pairs = {}
        for number, line in enumerate(_text(self, value).splitlines(), start=1):
            if not line.strip():
                continue
            name, equals, item = line.partition("=")
            if not equals or not name.strip():
                example = "HF_TOKEN=hf-token/token" if self.references else "LOG_LEVEL=info"
                raise ValidationError(f"Line {number}: write NAME=value, e.g. `{example}`.", code="invalid_value")
            pairs[name.strip()] = item.strip()
        return pairs or None

    def validate(self, value):
        for name, item in (value or {}).items():
            literal = looks_like_secret(item) or (not self.references and SENSITIVE_NAME_RE.search(name) and item)
            if literal:
                raise ValidationError(f"`{name}` looks like a secret: store it in a Kubernetes Secret and give "
                                      f"`{name}=<secret name>/<key>` under “Environment from Secrets”.",
                                      code="plaintext_secret")


def _as_text(value):
    """A list or map from the spec as the wizard's text: one item, or NAME=value, per line."""
    if isinstance(value, dict):
        return "\n".join(f"{k}={v}" for k, v in sorted(value.items()))  # as rendered: by name
    return "\n".join(str(v) for v in value)


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

    def initial_recommended(self, completed):
        """Pre-select, on a yes/no or one-of question left unanswered, the answer Gantry recommends (the value
        the recommender gave the completed spec): what the user sees chosen is what would be deployed."""
        if self.is_bound:
            return
        for name, field in self.fields.items():
            if name in self.initial or field.disabled or not isinstance(field.widget, forms.RadioSelect):
                continue
            value = self.initial_from_spec(completed, names=[name]).get(name)
            if value is not None and str(value) in {str(v) for v, _label in field.choices}:
                self.initial[name] = value

    @classmethod
    def initial_from_spec(cls, spec, names=None):
        initial = {}
        for name in names or cls.base_fields:
            node = spec
            for key in path_of(name).split("."):
                node = node.get(key) if isinstance(node, dict) else None
            if isinstance(node, bool):
                node = "true" if node else "false"
            elif isinstance(node, (list, dict)):
                node = _as_text(node)
            if node is not None:
                initial[name] = node
        return initial

    def spec_values(self):
        """{dotted spec path: value} for the fields the user may change; None means "recommend it"."""
        return {path_of(n): v for n, v in self.cleaned_data.items() if not self.fields[n].disabled}

    @classmethod
    def spec_paths(cls):
        return [path_of(n) for n in cls.base_fields]


def spec_form_field(path, *, blank=None, widget=None, max_length=None, select=False, validators=()):
    """A form field for one spec path: label, help, choices and type from specs/schema.py.

    `blank`: a first choice meaning "leave it out" (the recommender fills it in); `select`: a
    choice whose options the form reads from the catalog. Bounds are not checked here: the
    validator does that, with the same message the API gives.
    """
    declared = spec_field(path)
    common = {"label": declared.label, "help_text": declared.help, "validators": list(validators)}
    if declared.default is not None and not declared.choices and not select:
        # An empty answer is not "nothing": say what the validator will fill in.
        common["help_text"] += f". Left empty: {declared.default}"
        widget = widget or (forms.NumberInput if declared.type in (INT, NUMBER) else forms.TextInput)(
            attrs={"placeholder": str(declared.default)})
    if select:
        return forms.ChoiceField(choices=[], **common)
    if declared.type == BOOL:
        choices = [("false", "No"), ("true", "Yes")]
        return forms.TypedChoiceField(coerce=_bool, empty_value=None, choices=choices,
                                      widget=widget or forms.RadioSelect, **common)
    if declared.choices:
        choices = ([blank] if blank else []) + list(declared.choices)
        return forms.ChoiceField(choices=choices, widget=widget or forms.Select, initial=declared.default, **common)
    if declared.type == INT:
        return forms.IntegerField(widget=widget, **common)
    if declared.type == STR_LIST:
        return LinesField(**common)
    if declared.type == STR_MAP:
        return PairsField(references=path.endswith("secret_env"), **common)
    if declared.type == NUMBER:
        return forms.FloatField(widget=forms.NumberInput(attrs={"step": "any"}), **common)
    return forms.CharField(max_length=max_length or 500, **common)


class BasicsForm(StepForm):
    title = "Basics"
    team = forms.ChoiceField(label=spec_field("team").label, help_text="Teams where you may deploy (deployer or owner).")
    name = spec_form_field("name", max_length=60)
    workload = spec_form_field("workload", widget=forms.RadioSelect)

    def __init__(self, *args, teams=(), editing=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].choices = [("", "Choose a team")] + [(t.slug, f"{t.name} ({t.slug})") for t in teams]
        if len(teams) == 1 and not self.initial.get("team"):
            self.initial["team"] = teams[0].slug  # the only team there is to choose
        if editing:
            # Team and name identify the objects in the cluster: an edit keeps them.
            for name in ("team", "name"):
                self.fields[name].disabled = True
                self.fields[name].help_text = "Fixed for an existing deployment."
            self.fields["team"].choices = [(self.initial.get("team"), self.initial.get("team"))]


class ModelStorageForm(StepForm):
    title = "Model and storage"
    runtime__kind = spec_form_field("runtime.kind")
    runtime__image = spec_form_field("runtime.image", max_length=300)
    model__uri = spec_form_field("model.uri")
    model__parameters_billions = spec_form_field("model.parameters_billions")
    model__precision = spec_form_field("model.precision")
    model__format = spec_form_field("model.format", blank=("", "Detect from the URI"))
    model__family = spec_form_field("model.family", select=True)
    model__layers = spec_form_field("model.layers")
    model__kv_heads = spec_form_field("model.kv_heads")
    model__head_dim = spec_form_field("model.head_dim")
    storage__tier = spec_form_field("storage.tier", blank=RECOMMENDED)
    storage__credentials_secret = spec_form_field("storage.credentials_secret", max_length=253,
                                                  validators=[_literal_secret_refuse])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The image follows the runtime until the user types their own (static/gantry/gantry.js).
        image = self.fields["runtime__image"]
        image.widget.attrs.update({"data-runtime-images": json.dumps(DEFAULT_IMAGES), "autocomplete": "off"})
        image.help_text += ". Defaults: " + "; ".join(f"{kind}: {ref}" for kind, ref in DEFAULT_IMAGES.items())
        # The tiers' names as the catalog has them now.
        self.fields["storage__tier"].choices = [RECOMMENDED] + [(t.slug, t.name) for t in storage_tiers_list()]
        self.fields["model__family"].choices = [("", "Not listed (give the numbers below)")] + [
            (f.name, f.name) for f in model_families_list()]


class ModelServingForm(ModelStorageForm):
    """Online services also say how much context they hold: the KV cache counts in the GPU choice (step 3)."""
    serving__max_context_tokens = spec_form_field("serving.max_context_tokens")
    serving__max_concurrent_sequences = spec_form_field("serving.max_concurrent_sequences")


class ComputeForm(StepForm):
    title = "Compute"
    compute__accelerator = spec_form_field("compute.accelerator", widget=forms.RadioSelect)
    compute__gpu_class = spec_form_field("compute.gpu_class", select=True)
    compute__gpus_per_replica = forms.TypedChoiceField(
        label=spec_field("compute.gpus_per_replica").label, help_text=spec_field("compute.gpus_per_replica").help,
        coerce=int, empty_value=None, choices=[RECOMMENDED] + [(str(n), str(n)) for n in GPU_COUNTS])
    compute__region = spec_form_field("compute.region", select=True)
    region_preference = spec_form_field("region_preference", widget=forms.RadioSelect)
    models_per_gpu = spec_form_field("models_per_gpu")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Catalog choices, read now: a class or region staff switch off disappears at once.
        self.fields["compute__gpu_class"].choices = [RECOMMENDED] + [
            (g.name, f"{g.name} · {g.vram_gb} GB · {money_rate(g.price_per_gpu_hour)}/GPU-hour")
            for g in gpu_classes_list(only_available=True)
        ]
        self.fields["compute__region"].choices = [RECOMMENDED] + [
            (r.code, f"{r.code} · {r.name}") for r in regions_list() if r.available
        ]


class ScalingForm(StepForm):
    title = "Scaling"
    scaling__latency_tolerance = spec_form_field("scaling.latency_tolerance", blank=RECOMMENDED)
    scaling__min_replicas = spec_form_field("scaling.min_replicas")
    scaling__max_replicas = spec_form_field("scaling.max_replicas")
    scaling__scale_to_zero_retention = spec_form_field("scaling.scale_to_zero_retention", max_length=20)
    scaling__target_utilization_percent = spec_form_field("scaling.target_utilization_percent")
    scaling__target_concurrency = spec_form_field("scaling.target_concurrency")
    request_queue = spec_form_field("request_queue")


class BatchForm(StepForm):
    title = "Batch run"
    batch__inputs_uri = spec_form_field("batch.inputs_uri")
    batch__outputs_uri = spec_form_field("batch.outputs_uri")
    batch__parallelism = spec_form_field("batch.parallelism")
    batch__timeout_minutes = spec_form_field("batch.timeout_minutes")
    batch__retries = spec_form_field("batch.retries")
    batch__schedule = spec_form_field("batch.schedule", max_length=100)
    batch__timezone = spec_form_field("batch.timezone", max_length=64)


class AccessForm(StepForm):
    title = "Access and batching"
    access__visibility = spec_form_field("access.visibility", widget=forms.RadioSelect)
    runtime__protocol = spec_form_field("runtime.protocol")
    runtime__port = spec_form_field("runtime.port")
    runtime__health_path = spec_form_field("runtime.health_path", max_length=200)
    runtime__command = spec_form_field("runtime.command")
    runtime__args = spec_form_field("runtime.args")
    runtime__env = spec_form_field("runtime.env")
    runtime__secret_env = spec_form_field("runtime.secret_env")
    target = forms.ChoiceField(label=spec_field("target").label, help_text=spec_field("target").help,
                               choices=[c for c in spec_field("target").choices if c[0] != "argo"])
    access__cross_cloud_clients = spec_form_field("access.cross_cloud_clients")
    batching__max_batch_size = spec_form_field("batching.max_batch_size")
    batching__max_latency_ms = spec_form_field("batching.max_latency_ms")


class BatchAccessForm(StepForm):
    """Batch runs have no endpoint, visibility or request batching; what applies is how the container starts
    and its environment (each shard also gets INPUTS_URI, OUTPUTS_URI, SHARD_INDEX and SHARD_COUNT)."""
    title = "Command and environment"
    runtime__command = spec_form_field("runtime.command")
    runtime__args = spec_form_field("runtime.args")
    runtime__env = spec_form_field("runtime.env")
    runtime__secret_env = spec_form_field("runtime.secret_env")


def form_class_for(step, workload):
    online = workload != "batch"
    return {
        1: BasicsForm,
        2: ModelServingForm if online else ModelStorageForm,
        3: ComputeForm,
        4: ScalingForm if online else BatchForm,
        5: AccessForm if online else BatchAccessForm,
    }[step]


STEP_TITLES = {1: "Basics", 2: "Model and storage", 3: "Compute", 4: "Scaling", 5: "Access and batching",
               6: "Review"}
