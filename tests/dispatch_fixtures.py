"""`dispatched`: what the services queued for the workers, recorded instead of sent to Redis.

Autouse, so no test leaks a message into the broker that a later test's real worker would run;
tests marked `worker` (they start a real worker) send for real. Each task has a view
with the assertions the tests need: `dispatched.push.assert_called_once_with(pk, 1)`.
"""

import pytest

import taskqueue
from deployments import dispatch
from notifications import dispatch as notifications_dispatch


class TaskCalls:
    def __init__(self, recorder, name):
        self._recorder, self._name = recorder, name

    @property
    def calls(self):
        return [args for name, args in self._recorder.sent if name == self._name]

    @property
    def called(self):
        return bool(self.calls)

    @property
    def call_count(self):
        return len(self.calls)

    def assert_not_called(self):
        assert not self.calls, f"{self._name}: expected no call, got {self.calls}"

    def assert_called_once_with(self, *args):
        assert self.calls == [args], f"{self._name}: expected one call with {args}, got {self.calls}"


class Dispatched:
    def __init__(self):
        self.sent = []
        self.push = TaskCalls(self, dispatch.PUSH)
        self.teardown = TaskCalls(self, dispatch.TEARDOWN)
        self.sync = TaskCalls(self, dispatch.SYNC)
        self.deliver = TaskCalls(self, notifications_dispatch.DELIVER)

    def __call__(self, name, args):
        self.sent.append((name, tuple(args)))


@pytest.fixture(autouse=True)
def dispatched(request, monkeypatch):
    if request.node.get_closest_marker("worker"):
        return None
    recorder = Dispatched()
    monkeypatch.setattr(taskqueue, "_send", recorder)
    return recorder
