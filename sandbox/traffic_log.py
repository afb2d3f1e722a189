"""The request log and fault injection of the sandbox API, shared with test code across threads."""

import dataclasses
import json
import re
import threading
import time

import yaml


@dataclasses.dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict
    headers: dict
    body: bytes
    time: float

    @property
    def content_type(self):
        return self.headers.get("Content-Type", "").split(";")[0].strip()

    @property
    def data(self):
        """The parsed body (JSON, or YAML for apply patches), None when empty or unparseable."""
        if not self.body:
            return None
        try:
            return json.loads(self.body)
        except ValueError:
            try:
                return yaml.safe_load(self.body)
            except yaml.YAMLError:
                return None


class RequestLog:
    def __init__(self):
        self._lock = threading.Lock()
        self._items = []

    def record(self, method, path, query, headers, body):
        entry = RecordedRequest(method.upper(), path, dict(query), dict(headers), body, time.time())
        with self._lock:
            self._items.append(entry)
        return entry

    def all(self):
        with self._lock:
            return list(self._items)

    def clear(self):
        with self._lock:
            self._items.clear()


@dataclasses.dataclass
class Fault:
    method: str  # "*" for any
    pattern: re.Pattern
    action: str  # "status" | "drop" | "delay"
    status: int = 503
    seconds: float = 0.0
    times: int | None = 1  # None: until cleared
    message: str = ""

    def matches(self, method, path):
        return self.method in ("*", method.upper()) and self.pattern.search(path) is not None


class FaultPlan:
    """Rules consumed in order: the first matching rule with remaining uses answers."""

    def __init__(self):
        self._lock = threading.Lock()
        self._rules = []

    def add(self, method, path_regex, action, *, status=503, seconds=0.0, times=1, message=""):
        rule = Fault(method.upper(), re.compile(path_regex), action, status, seconds, times, message)
        with self._lock:
            self._rules.append(rule)
        return rule

    def take(self, method, path):
        with self._lock:
            for rule in self._rules:
                if rule.matches(method, path):
                    if rule.times is not None:
                        rule.times -= 1
                        if rule.times <= 0:
                            self._rules.remove(rule)
                    return rule
        return None

    def clear(self):
        with self._lock:
            self._rules.clear()
