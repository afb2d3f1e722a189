"""The container part of spec validation: runtime kind and image, command, args, env and secret env,
and what a serving runtime (vLLM, TGI, Triton) can read. Called by specs/validation.py's `spec_validate`,
the one entry point; these functions add issues to its Checker.
"""

from .formats import ENV_NAME_RE, HEALTH_PATH_RE, IMAGE_RE, SECRET_REF_RE, TAG_RE
from .runtimes import DEFAULT_IMAGES
from .schema import spec_field
from .secrets import SENSITIVE_NAME_RE, looks_like_secret

MAX_TIMEOUT_SECONDS = spec_field("runtime.timeout_seconds").maximum


def runtime_check(check, spec):
    runtime = spec["runtime"]
    runtime["kind"] = check.choice(runtime, "kind", default=spec_field("runtime.kind").default)
    health = runtime.get("health_path")
    if health is not None and not (isinstance(health, str) and HEALTH_PATH_RE.fullmatch(health)):
        check.error("invalid_value", "runtime.health_path", "Give an HTTP path such as `/health`: it starts with "
                    "`/`, has no spaces and at most 200 characters.")
    check.integer(runtime, "startup_timeout_seconds")
    image = runtime.get("image")
    if (image is None or image == "") and runtime["kind"] in DEFAULT_IMAGES:
        image = runtime["image"] = DEFAULT_IMAGES[runtime["kind"]]
    if not isinstance(image, str) or not image.strip():
        check.error("missing_image", "runtime.image", "Give the container image to run, with a tag or "
                    "digest, e.g. `ghcr.io/acme/llm-server:1.4`.")
    elif not IMAGE_RE.fullmatch(image) or not (TAG_RE.search(image.split("/")[-1]) or "@" in image):
        check.error("missing_image", "runtime.image", f"`{image}` needs an explicit tag or digest "
                    "(e.g. `:1.4` or `@sha256:…`) so every revision runs the same code.")
    for key in ("command", "args"):
        _check_words(check, runtime, key)
    if runtime.get("command") and runtime["kind"] != "custom":
        check.error("invalid_value", "runtime.command", f"Gantry starts {runtime['kind']} the way that server "
                    "expects; a command of your own needs `runtime.kind` set to `custom` (or use `runtime.args` to "
                    "add flags).")
    runtime["port"] = check.integer(runtime, "port") or runtime.get("port", spec_field("runtime.port").default)
    runtime["protocol"] = check.choice(runtime, "protocol", default=spec_field("runtime.protocol").default)
    timeout = runtime.get("timeout_seconds")
    if isinstance(timeout, int) and not isinstance(timeout, bool) and timeout > MAX_TIMEOUT_SECONDS:
        check.error("request_timeout_too_long", "runtime.timeout_seconds", f"Knative allows at most "
                    f"{MAX_TIMEOUT_SECONDS} s per request; for work that takes longer set `workload` to `batch`.")
    else:
        check.integer(runtime, "timeout_seconds")
    _check_env(check, runtime)


def _check_words(check, runtime, key):
    """command and args: lists of strings, none carrying a secret."""
    words = runtime.get(key)
    if words is not None and not (isinstance(words, list) and all(isinstance(a, str) for a in words)):
        check.error("invalid_value", f"runtime.{key}", f"`runtime.{key}` must be a list of strings.")
    elif words:
        for i, word in enumerate(words):
            # `--api-key=sk-…` or a bare token: the value after "=" counts as much as the whole argument.
            if looks_like_secret(word) or looks_like_secret(word.partition("=")[2]):
                check.error("plaintext_secret", f"runtime.{key}.{i}", "This argument carries what looks like a "
                            "secret. Put it in a Kubernetes Secret, expose it with `runtime.secret_env` and "
                            "refer to the variable, e.g. `--api-key=$(API_KEY)`.")


def _check_env(check, runtime):
    env = runtime.get("env")
    if env is not None:
        if not isinstance(env, dict):
            check.error("invalid_value", "runtime.env", "`runtime.env` must map names to plain string values.")
        else:
            for name, value in sorted(env.items()):
                path = f"runtime.env.{name}"
                if not ENV_NAME_RE.fullmatch(name) or not isinstance(value, str):
                    check.error("invalid_value", path, "Environment names are letters, digits and `_`; "
                                "values are strings.")
                elif looks_like_secret(value) or (SENSITIVE_NAME_RE.search(name) and value):
                    check.error("plaintext_secret", path, f"`{name}` looks like a secret: store it in a "
                                "Kubernetes Secret and reference it in `runtime.secret_env` as "
                                f"`{name}: <secret name>/<key>`.")
    secret_env = runtime.get("secret_env")
    if secret_env is not None:
        if not isinstance(secret_env, dict):
            check.error("invalid_value", "runtime.secret_env", "`runtime.secret_env` must map names to "
                        "`<secret name>/<key>` references.")
            return
        for name, ref in sorted(secret_env.items()):
            path = f"runtime.secret_env.{name}"
            if not ENV_NAME_RE.fullmatch(name):
                check.error("invalid_value", path, "Environment names are letters, digits and `_`.")
            elif isinstance(ref, str) and SECRET_REF_RE.fullmatch(ref):
                continue
            elif looks_like_secret(ref):
                check.error("plaintext_secret", path, "This looks like the secret itself. Put it in a "
                            "Kubernetes Secret and give `<secret name>/<key>` here, e.g. `hf-token/token`.")
            else:
                check.error("invalid_secret_ref", path, "Give a reference `<secret name>/<key>`, e.g. "
                            "`hf-token/token`; the secret name is lowercase letters, digits, '-' or '.'.")


def runtime_fits_check(check, spec, workload):
    """What a serving runtime can read: refused here rather than a pod that never loads the model."""
    kind = spec["runtime"].get("kind")
    if kind in (None, "custom"):
        return
    if workload == "batch":
        check.error("invalid_value", "runtime.kind", "vLLM, TGI and Triton serve requests; a batch run runs "
                    "your own image: set `runtime.kind` to `custom`.")
        return
    uri = spec["model"].get("uri") or ""
    if spec.get("target") != "knative" or not uri.startswith("s3://"):
        return  # KServe downloads s3:// models first; pvc:// is mounted
    if kind == "tgi":
        check.error("invalid_value", "runtime.kind", "TGI reads a local path, not s3://: set `target` to "
                    "`kserve` (it downloads the model first) or use a `pvc://` volume.")
    elif kind == "vllm" and spec["model"].get("format") != "tensorizer":
        check.error("invalid_value", "model.format", "vLLM streams s3:// weights only through Tensorizer: "
                    "serialize the model with Tensorizer, or set `target` to `kserve`, or use a `pvc://` volume.")
