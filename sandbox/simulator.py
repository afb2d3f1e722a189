"""A small controller loop behind the sandbox API: the Knative autoscaler, the KServe
controller and the Argo controller, simulated (see sim_serving and sim_workflows).

Time is simulated: `time_scale` simulated seconds pass per real second, and
tests can move the clock with `advance()` and call `tick()` themselves.
"""

import logging
import threading
import time

from .resources import resource_type
from .sim_kserve import ISVC_LABEL, isvc_status_write, predictor_ensure
from .sim_serving import PATTERNS, ServingState, serving_reconcile
from .sim_workflows import WorkflowState, workflow_reconcile

log = logging.getLogger("sandbox.simulator")

KSVC = resource_type("services.serving.knative.dev")
ISVC = resource_type("inferenceservices.serving.kserve.io")
WORKFLOWS = resource_type("workflows.argoproj.io")


class Simulator:
    def __init__(self, store, *, time_scale=1.0, clock=time.monotonic):
        self.store = store
        self.time_scale = time_scale
        self._clock = clock
        self._origin = clock()
        self._offset = 0.0
        self._states = {}  # object uid -> ServingState | WorkflowState
        self._traffic = {}  # (namespace, name) -> pattern set from Python
        self._lock = threading.RLock()
        self._thread = None
        self._stopping = threading.Event()

    # --- time ---

    def now(self):
        """Simulated seconds since the simulator started."""
        return (self._clock() - self._origin) * self.time_scale + self._offset

    def advance(self, seconds):
        """Jump the simulated clock forward (tests)."""
        with self._lock:
            self._offset += seconds

    # --- knobs ---

    def set_traffic(self, namespace, name, pattern):
        """Override the traffic of one service: steady | idle | wave | burst (None: back to its annotation)."""
        if pattern is not None and pattern not in PATTERNS:
            raise ValueError(f"traffic pattern must be one of {PATTERNS}, not {pattern!r}")
        with self._lock:
            if pattern is None:
                self._traffic.pop((namespace, name), None)
            else:
                self._traffic[(namespace, name)] = pattern

    def reset(self):
        with self._lock:
            self._states.clear()
            self._traffic.clear()
            self._offset = 0.0
            self._origin = self._clock()

    # --- the loop ---

    def tick(self, now=None):
        """One reconcile pass over every serving object and workflow."""
        with self._lock:
            now = self.now() if now is None else now
            seen = set()
            # KServe makes each predictor's Knative Service, Knative runs it, then KServe reports.
            isvcs = [obj for obj in self.store.objects(ISVC) if not obj["metadata"].get("deletionTimestamp")]
            for obj in isvcs:
                self._guarded(predictor_ensure, self.store, obj)
            for obj in self.store.objects(KSVC):
                meta = obj["metadata"]
                seen.add(meta["uid"])
                if meta.get("deletionTimestamp"):
                    continue
                state = self._states.setdefault(meta["uid"], ServingState(now))
                owner = (meta.get("labels") or {}).get(ISVC_LABEL) if meta["name"].endswith("-predictor") else None
                pattern = self._traffic.get((meta["namespace"], meta["name"])) or self._traffic.get(
                    (meta["namespace"], owner))
                self._guarded(serving_reconcile, self.store, KSVC, obj, state, now, pattern, self.time_scale)
            for obj in isvcs:
                seen.add(obj["metadata"]["uid"])
                self._guarded(isvc_status_write, self.store, ISVC, obj)
            for obj in self.store.objects(WORKFLOWS):
                meta = obj["metadata"]
                seen.add(meta["uid"])
                state = self._states.setdefault(meta["uid"], WorkflowState(now))
                self._guarded(workflow_reconcile, self.store, WORKFLOWS, obj, state, now)
            # Deleted objects: the store's garbage collection already removed their pods.
            for uid in set(self._states) - seen:
                del self._states[uid]

    @staticmethod
    def _guarded(fn, *args):
        try:
            fn(*args)
        except Exception:  # one broken object must not stop the others from reconciling
            name = next((a["metadata"].get("name") for a in args if isinstance(a, dict) and "metadata" in a), "?")
            log.exception("simulator failed to reconcile %s", name)

    def start(self, interval=1.0):
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, args=(interval,), name="sandbox-simulator", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None

    def _run(self, interval):
        while not self._stopping.wait(interval):
            self.tick()
