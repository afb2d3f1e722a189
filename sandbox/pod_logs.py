"""GET .../pods/<name>/log: what the kubelet would stream, told from the simulated pod's state.

Errors worded as kube-apiserver v1.31 words them (pkg/registry/core/pod/strategy.go LogLocation):
a pod with several containers needs ?container=, and a container that has not started has no log.
Query parameters as the API reference lists them for "read log of the specified Pod" (core/v1,
kubernetes.io/docs/reference/kubernetes-api/workload-resources/pod-v1/#read-log-of-the-specified-pod):
container, follow, previous, sinceSeconds, tailLines, limitBytes, timestamps.

No process runs in the sandbox, so a container's log is a function of time: the runtime's start-up
lines at its start, then one request line every REQUEST_EVERY seconds until it stops (or now). The
lines imitate what vLLM, TGI, Triton and KServe's model servers print; a batch shard logs progress.
"""

import datetime
import zlib

from .errors import bad_request

REQUEST_EVERY = 1.0
MAX_LINES = 20_000  # a pod up for days: the sandbox keeps the newest lines, like a rotated log file
_TRUE = ("1", "t", "T", "true", "TRUE", "True")  # Go's strconv.ParseBool, which the apiserver uses
FOLLOW_TRUE = _TRUE
FOLLOW_LIMIT = 1800.0  # seconds; a real follow lasts as long as the container, the sandbox's ends here


def _epoch(text):
    try:
        return datetime.datetime.fromisoformat((text or "").replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _iso(t, *, nanos=False):
    moment = datetime.datetime.fromtimestamp(t, datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + "000Z" if nanos else moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _runtime(image):
    for needle, kind in (("vllm", "vllm"), ("text-generation-inference", "tgi"), ("tritonserver", "triton"),
                         ("kserve/", "kserve")):
        if needle in (image or ""):
            return kind
    return "generic"


def _startup(kind, container, t):
    """The runtime's own start-up lines, (offset seconds, text)."""
    d = datetime.datetime.fromtimestamp(t, datetime.UTC)
    md, hms = d.strftime("%m-%d"), d.strftime("%H:%M:%S")
    image = container.get("image", "")
    if container["name"] == "main":  # an Argo batch shard
        env = {e.get("name"): e.get("value", "") for e in container.get("env") or []}
        shard = f"{env.get('SHARD_INDEX', '0')}/{env.get('SHARD_COUNT', '1')}"
        return [(0, f"batch: shard {shard} starting, inputs {env.get('INPUTS_URI', '')}"),
                (1, f"batch: shard {shard} model loaded from {image}")]
    if kind == "vllm":
        return [(0, f"INFO {md} {hms} [api_server.py] vLLM API server version {image.rpartition(':')[2]}"),
                (0, f"INFO {md} {hms} [utils.py] non-default args: {container.get('args') or []}"),
                (1, f"INFO {md} {hms} [gpu_model_runner.py] Model loading took 15.0 GiB and 9.8 seconds"),
                (2, f"INFO {md} {hms} [api_server.py] Starting vLLM API server on http://0.0.0.0:8080"),
                (2, "INFO:     Started server process [1]"),
                (2, "INFO:     Application startup complete.")]
    if kind == "tgi":
        stamp = _iso(t)
        return [(0, f"{stamp}  INFO text_generation_launcher: Args {{ args: {container.get('args') or []} }}"),
                (1, f"{stamp}  INFO shard-manager: text_generation_launcher: Shard ready in 9.8s rank=0"),
                (2, f"{stamp}  INFO text_generation_router::server: Connected")]
    if kind == "triton":
        prefix = f"I{d.strftime('%m%d %H:%M:%S.%f')} 1"
        return [(0, f"{prefix} server.cc] Triton Server version {image.rpartition(':')[2]}"),
                (1, f"{prefix} model_lifecycle.cc] successfully loaded 'model'"),
                (2, f"{prefix} grpc_server.cc] Started GRPCInferenceService at 0.0.0.0:8001"),
                (2, f"{prefix} http_server.cc] Started HTTPService at 0.0.0.0:8080"),
                (2, f"{prefix} http_server.cc] Started Metrics Service at 0.0.0.0:8002")]
    if kind == "kserve":
        return [(0, "INFO:kserve:Registering model: model"),
                (1, "INFO:kserve:Setting max asyncio worker threads as 12"),
                (2, "INFO:uvicorn.error:Uvicorn running on http://0.0.0.0:8080 (Press CTRL+C to quit)")]
    return [(0, f"starting {image}"), (1, "listening on :8080")]


def _request_line(kind, container, k, t):
    """Request number k at time t: deterministic, so a follow and a later read agree."""
    spread = zlib.crc32(f"{container['name']}{k}".encode()) % 900
    if container["name"] == "main":
        return f"batch: processed {(k + 1) * 50} records"
    if kind == "vllm":
        return f'INFO:     10.1.0.{k % 250 + 1}:{40000 + spread} - "POST /v1/chat/completions HTTP/1.1" 200 OK'
    if kind == "tgi":
        return (f'{_iso(t)}  INFO generate{{total_time="{0.1 + spread / 1000:.3f}s" '
                f'queue_time="0.001s"}}: text_generation_router::server: Success')
    if kind == "triton":
        return f"I{datetime.datetime.fromtimestamp(t, datetime.UTC).strftime('%m%d %H:%M:%S.%f')} 1 " \
               f"http_server.cc] HTTP request: 2 /v2/models/model/infer"
    if kind == "kserve":
        return f'INFO:uvicorn.access:10.1.0.{k % 250 + 1}:0 - "POST /v1/models/model:predict HTTP/1.1" 200 OK'
    return f"GET / 200 {spread}us"


class ContainerLog:
    """The lines of one container instance (the current one, or the previous with ?previous=true)."""

    def __init__(self, pod, query):
        name = pod["metadata"]["name"]
        containers = [c["name"] for c in (pod.get("spec") or {}).get("containers") or []]
        container = query.get("container")
        if not container:
            if len(containers) != 1:
                raise bad_request(f"a container name must be specified for pod {name}, "
                                  f"choose one of: [{' '.join(containers)}]")
            container = containers[0]
        if container not in containers:
            raise bad_request(f"container {container} is not valid for pod {name}")
        self.container = next(c for c in pod["spec"]["containers"] if c["name"] == container)
        self.kind = _runtime(self.container.get("image"))
        self.previous = query.get("previous") in _TRUE
        self.timestamps = query.get("timestamps") in _TRUE
        status = next((cs for cs in (pod.get("status") or {}).get("containerStatuses") or []
                       if cs.get("name") == container), {})
        if self.previous:
            state = (status.get("lastState") or {})
            if "terminated" not in state:
                raise bad_request(f'previous terminated container "{container}" in pod "{name}" not found')
        else:
            state = status.get("state") or {}
            if not state or "waiting" in state:
                reason = (state.get("waiting") or {}).get("reason", "ContainerCreating")
                raise bad_request(f'container "{container}" in pod "{name}" is waiting to start: {reason}')
        done = state.get("terminated")
        self.started = _epoch((state.get("running") or done or {}).get("startedAt")
                              or (pod.get("status") or {}).get("startTime")) or 0.0
        if done and self.previous and not done.get("startedAt"):
            self.started = (_epoch(done.get("finishedAt")) or self.started) - 30
        self.finished = _epoch(done.get("finishedAt")) if done else None
        self.exit_code = done.get("exitCode", 0) if done else None
        self.since = None
        if (since := query.get("sinceSeconds")) is not None:
            if not since.isdigit() or int(since) < 1:
                raise bad_request("sinceSeconds: Invalid value: must be greater than 0")
            self.since = int(since)
        tail = query.get("tailLines")
        if tail is not None and not tail.lstrip("-").isdigit():
            raise bad_request(f"tailLines: Invalid value: \"{tail}\"")
        self.tail = int(tail) if tail is not None else None
        if self.tail is not None and self.tail < 0:
            raise bad_request("tailLines: Invalid value: must be greater than or equal to 0")
        limit = query.get("limitBytes")
        self.limit = int(limit) if limit and limit.isdigit() and int(limit) > 0 else None

    def lines(self, start, end):
        """(time, text) of the lines written in (start, end]; start None: from the beginning."""
        out = []
        first_request = self.started + 3
        for offset, text in _startup(self.kind, self.container, self.started):
            t = self.started + offset
            if (start is None or t > start) and t <= end:
                out.append((t, text))
        stop = min(end, self.finished) if self.finished is not None else end
        lo = 0 if start is None else max(0, int((start - first_request) // REQUEST_EVERY) + 1)
        hi = int((stop - first_request) // REQUEST_EVERY)
        lo = max(lo, hi - MAX_LINES)
        for k in range(lo, hi + 1):
            t = first_request + k * REQUEST_EVERY
            if (start is None or t > start) and t <= stop:
                out.append((t, _request_line(self.kind, self.container, k, t)))
        if self.finished is not None and self.finished <= end and (start is None or self.finished > start):
            message = "finished" if self.exit_code == 0 else "CUDA error: out of memory; exiting"
            out.append((self.finished, f"{'batch' if self.container['name'] == 'main' else self.kind}: "
                                       f"{message} (exit code {self.exit_code})"))
        return out

    def render(self, lines):
        return "".join(f"{_iso(t, nanos=True)} {text}\n" if self.timestamps else f"{text}\n" for t, text in lines)

    def first(self, now):
        """The answer before any follow: since, tail and limit applied."""
        start = now - self.since if self.since is not None else None
        lines = self.lines(start, now)
        if self.tail is not None:
            lines = lines[-self.tail:] if self.tail else []
        text = self.render(lines)
        if self.limit is not None:
            text = text.encode()[:self.limit].decode("utf-8", "ignore")
        return text

    @property
    def ended(self):
        return self.previous or self.finished is not None
