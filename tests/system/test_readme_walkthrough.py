"""The README's REST walk-through runs as written (issue 20).

Every block marked `<!-- walkthrough -->` runs in order, as one shell session would run it (variables carry
from block to block), against a live server holding what `make run` seeds (`seed_demo` with the second
cluster), a real Celery worker with beat and both sandbox clusters. The token is typed in at step 1's
prompt. `curl` gets `--fail-with-body`, so a request that answers an error fails its step; a failing step
fails the test with the block, its output and the worker's log.
"""

import datetime
import json
import os
import re
import shutil
import signal
import subprocess
import sys

import pytest
import requests
from django.contrib.auth import get_user_model
from django.core.management import call_command

from spend.models import DailySpend
from teams.services import token_create
from tests.cluster_helpers import wait_for
from tests.readme_helpers import patch_example, step_with, walkthrough_steps

pytestmark = [pytest.mark.timeout(300), pytest.mark.django_db(transaction=True)]

STEP_TIMEOUT = 120  # seconds; the longest step waits for a batch run and a canary's stable revision
PUSHED = ("queued", "applying", "running", "scaled_to_zero")  # where a push goes, in order


@pytest.fixture
def sandbox_b_simulated(sandbox_b):
    sandbox_b.simulator.time_scale = 60.0
    sandbox_b.simulator.reset()
    sandbox_b.simulator.start(interval=0.1)
    yield sandbox_b
    sandbox_b.simulator.stop()


@pytest.fixture
def demo(live_server, sandbox_simulated, sandbox_kubeconfig, sandbox_b_simulated, celery_worker_factory):
    """`make run`'s state: the demo seeded, its deployments pushed, spend rolled up for today."""
    worker = celery_worker_factory(env={"ROLLUP_INTERVAL_SECONDS": "1"})
    call_command("seed_demo", "--second-cluster", sandbox_b_simulated.kubeconfig_path)
    wait_for(lambda: DailySpend.objects.filter(team__slug="demo",
                                               day=datetime.datetime.now(datetime.UTC).date()).exists(),
             timeout=60, interval=0.5, message=f"the demo's spend for today (worker log: {worker.log_path})")
    _, key = token_create(user=get_user_model().objects.get(username="demo"), name="readme")
    return live_server.url, key, worker


class Shell:
    """One reader's shell: each block runs in bash with the variables the blocks before it set."""

    def __init__(self, workdir, base):
        self.workdir, self.state = workdir, workdir / "state.sh"
        self.state.write_text("")
        bindir = workdir / "bin"
        bindir.mkdir()
        (bindir / "curl").write_text(f'#!/bin/sh\nexec {shutil.which("curl")} --fail-with-body "$@"\n')
        (bindir / "curl").chmod(0o755)
        self.env = {"PATH": f"{bindir}:{os.environ['PATH']}", "HOME": str(workdir), "LANG": "C.UTF-8",
                    "GANTRY": base}

    def run(self, command, stdin=""):
        proc = subprocess.Popen(["bash", "-c", command], cwd=self.workdir, env=self.env, text=True,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                start_new_session=True)
        try:
            output, _ = proc.communicate(stdin, timeout=STEP_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # the step's own process group: bash, curl, sleep
            output, _ = proc.communicate()
            return None, output
        return proc.returncode, output

    def step(self, step, token):
        if step.language == "python":
            script = self.workdir / "walkthrough.py"
            script.write_text(step.text)
            command = f'source {self.state} && exec {sys.executable} {script}'
        else:
            command = f"source {self.state}\nset -a -euo pipefail\n{step.text}\nexport -p > {self.state}\n"
        return self.run(command, stdin=f"{token}\n")


def _failure(step, code, output, worker):
    verdict = f"timed out after {STEP_TIMEOUT} s" if code is None else f"exit status {code}"
    return (f"README step {step} failed ({verdict}):\n{step.text}\n--- its output ---\n{output[-6000:]}\n"
            f"--- worker log ---\n{worker.log()[-3000:]}")


def test_the_readme_walkthrough_runs_as_written(demo, tmp_path):
    base, token, worker = demo
    steps = walkthrough_steps()
    assert [s.language for s in steps].count("python") == 1 and len(steps) >= 10, steps
    shell = Shell(tmp_path, base)
    outputs = {}
    for step in steps:
        code, output = shell.step(step, token)
        if code != 0:
            pytest.fail(_failure(step, code, output, worker), pytrace=False)
        outputs[step] = output

    # The PATCH ends where the README says (pushed, not held for approval: the demo team has room).
    _, shown_phase, shown_revision = patch_example(steps)
    patched = json.loads(outputs[step_with(steps, "-X PATCH")])
    assert patched["revision"] == shown_revision and patched["approval_reason"] == ""
    assert patched["status"]["phase"] in PUSHED[PUSHED.index(shown_phase):], patched["status"]
    # The spend dates have data: this month's answer has today, with the demo's deployments.
    today = datetime.datetime.now(datetime.UTC).date().isoformat()
    assert re.search(rf'"day":\s*"{today}"', outputs[step_with(steps, "/spend/")]), "no spend for today"
    assert "spend this month: $" in outputs[step_with(steps, "import requests")]


def test_an_empty_idempotency_key_is_refused_over_http(live_server, django_user_model):
    from teams.models import Membership, Role, Team

    user = django_user_model.objects.create_user("reader")
    Membership.objects.create(user=user, team=Team.objects.create(slug="demo", name="Demo"), role=Role.OWNER)
    _, key = token_create(user=user, name="readme")
    response = requests.post(f"{live_server.url}/api/v1/deployments/", json={"name": "x", "team": "demo"},
                             headers={"Authorization": f"Token {key}", "Idempotency-Key": ""}, timeout=10)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "Idempotency-Key"
