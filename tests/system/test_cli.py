"""The `gantry` command (issue 19) as installed by `pip install -e .`, run as a separate process against a live
server: a YAML spec applied end to end, the exit codes scripts rely on, and errors in the API's own words."""

import os
import re
import socket
import stat
import subprocess
import sys
from pathlib import Path

import kubernetes
import pytest
import requests
import yaml

from clusters import logs as cluster_logs
from deployments.models import Deployment, Revision
from teams.services import token_create
from tests.cluster_helpers import pod_running
from tests.factories import batch_spec, online_spec

pytestmark = [pytest.mark.timeout(120), pytest.mark.django_db(transaction=True)]

GANTRY = Path(sys.executable).parent / "gantry"
README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.fixture
def home(tmp_path):
    (tmp_path / "home").mkdir()
    return tmp_path / "home"


@pytest.fixture
def gantry(home, live_server):
    """gantry(*args, input=None, **env) -> CompletedProcess: the installed command, with a home of its own."""
    assert GANTRY.exists(), f"{GANTRY} is missing: `make install` (pip install -e .) installs the command"
    base = {k: v for k, v in os.environ.items() if not k.startswith(("GANTRY_", "XDG_"))}

    def run(*args, input=None, **env):
        return subprocess.run([str(GANTRY), *args], input=input, capture_output=True, text=True, timeout=60,
                              env={**base, "HOME": str(home), **env})

    return run


@pytest.fixture
def key(deployer):
    return token_create(user=deployer, name="cli")[1]


@pytest.fixture
def logged_in(gantry, live_server, key):
    done = gantry("login", "--url", live_server.url, "--token-stdin", input=f"{key}\n")
    assert done.returncode == 0, done.stderr
    return gantry


def write_spec(tmp_path, name="spec.yaml", **overrides):
    path = tmp_path / name
    text = yaml.safe_dump(online_spec(**overrides), sort_keys=False)
    path.write_text(f"# a deployment, as CI keeps it in git\n{text}")
    return str(path)


def ok(done):
    assert done.returncode == 0, f"exit {done.returncode}\nstdout: {done.stdout}\nstderr: {done.stderr}"
    return done.stdout


def test_login_checks_the_token_and_saves_it_for_the_owner_only(gantry, live_server, key, home):
    done = gantry("login", "--url", live_server.url + "/", "--token-stdin", input=f"{key}\n")
    assert ok(done).startswith(f"Logged in to {live_server.url};")
    config = home / ".config" / "gantry" / "config.json"
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert stat.S_IMODE(config.parent.stat().st_mode) == 0o700
    assert yaml.safe_load(config.read_text()) == {"url": live_server.url, "token": key}
    refused = gantry("login", "--url", live_server.url, "--token-stdin", input="not-a-token\n")
    assert refused.returncode == 4 and "Invalid or revoked token." in refused.stderr
    assert yaml.safe_load(config.read_text())["token"] == key  # a refused token is not saved


def test_a_yaml_spec_applied_end_to_end(logged_in, tmp_path):
    gantry = logged_in
    spec = write_spec(tmp_path)
    preview = ok(gantry("preview", "-f", spec))
    assert preview.startswith("nlp/llama-chat: online on knative") and "per hour" in preview
    assert not Deployment.objects.exists()

    assert ok(gantry("apply", "-f", spec)).startswith("nlp/llama-chat created (revision 1, queued)")
    again = ok(gantry("apply", "-f", spec))
    assert again.startswith("nlp/llama-chat unchanged: the stored spec already matches (revision 1")
    assert Revision.objects.count() == 1

    assert preview.rstrip().endswith("apply creates it")
    assert ok(gantry("preview", "-f", spec)).rstrip().endswith("apply changes nothing: revision 1 already matches")

    changed = write_spec(tmp_path, scaling={"min_replicas": 0, "max_replicas": 3, "latency_tolerance": "moderate"})
    planned = ok(gantry("preview", "-f", changed))
    assert planned.rstrip().endswith("apply changes revision 1:\n  scaling.max_replicas: 2 -> 3")
    assert ok(gantry("apply", "-f", changed)) == "nlp/llama-chat changed (revision 2, queued)\n" \
                                                 "  scaling.max_replicas: 2 -> 3\n"
    assert "unchanged" in ok(gantry("apply", "-f", changed))
    applied = yaml.safe_load(ok(gantry("apply", "-f", changed, "-o", "yaml")))
    assert (applied["action"], applied["changes"]) == ("unchanged", {}) and Revision.objects.count() == 2

    got = yaml.safe_load(ok(gantry("get", "llama-chat", "-o", "yaml")))
    assert got["revision"] == 2 and got["spec"]["scaling"]["max_replicas"] == 3 and got["team"] == "nlp"
    listed = ok(gantry("list", "-o", "table")).splitlines()
    assert re.split(r"\s{2,}", listed[0]) == ["NAME", "TEAM", "WORKLOAD", "STATUS", "READY", "REVISION", "GPU",
                                              "REGION"]
    assert re.split(r"\s{2,}", listed[1])[:6] == ["llama-chat", "nlp", "online", "queued", "0/0", "2"]

    rolled = ok(gantry("rollback", "llama-chat", "--to", "1"))
    assert rolled.startswith("nlp/llama-chat rolled back to revision 1's spec (revision 3")
    assert yaml.safe_load(ok(gantry("get", "llama-chat", "-o", "json")))["spec"]["scaling"]["max_replicas"] == 2

    assert ok(gantry("delete", "llama-chat")).strip() == "nlp/llama-chat deleting"
    assert Deployment.objects.get().status == "deleting"


def test_a_batch_spec_applies_once_and_lists_its_run(logged_in):
    text = yaml.safe_dump(batch_spec())
    assert ok(logged_in("apply", "-f", "-", input=text)).startswith("nlp/nightly-batch created (revision 1")
    assert "unchanged" in ok(logged_in("apply", "-f", "-", input=text))
    runs = ok(logged_in("runs", "nightly-batch")).splitlines()
    assert runs[0].split() == ["RUN", "REVISION", "STATUS", "SHARDS", "DURATION", "COST_USD", "STARTED"]
    assert runs[1].split()[:3] == ["1", "1", "queued"] and len(runs) == 2


def test_the_readmes_example_from_standard_input_with_json_output(logged_in):
    example = re.search(r"^```yaml\n# llama.yaml\n(.*?)^```", README.read_text(), re.M | re.S).group(1)
    text = example.replace("team: demo", "team: nlp")  # the README's team is the demo's
    applied = yaml.safe_load(ok(logged_in("apply", "-f", "-", "-o", "json", input=text)))
    assert applied["action"] == "created" and applied["deployment"]["name"] == "llama-chat"
    assert applied["deployment"]["spec"]["model"]["format"] == "tensorizer"


def test_the_api_refusal_is_exit_1_in_its_own_words(logged_in, tmp_path, live_server, key):
    bad = write_spec(tmp_path, name="bad.yaml", models_per_gpu=2)
    preview = logged_in("preview", "-f", bad)
    api = requests.post(f"{live_server.url}/api/v1/deployments/preview/", json=online_spec(models_per_gpu=2),
                        headers={"Authorization": f"Token {key}"}, timeout=30).json()
    [bin_packing] = [e for e in api["errors"] if e["code"] == "bin_packing"]
    assert preview.returncode == 1
    assert f"error: models_per_gpu: {bin_packing['message']} (bin_packing)" in preview.stderr
    applied = logged_in("apply", "-f", bad)
    assert applied.returncode == 1 and "(bin_packing)" in applied.stderr and applied.stdout == ""
    missing = logged_in("get", "no-such-thing")
    assert missing.returncode == 1
    assert "error: name: No deployment named 'no-such-thing' in your teams. (not_found)" in missing.stderr
    runs = logged_in("runs", "llama-chat", "--start")
    assert runs.returncode == 1
    assert not Deployment.objects.exists()


def test_a_viewer_is_refused_by_the_api_with_its_reason(gantry, live_server, viewer, tmp_path):
    env = {"GANTRY_URL": live_server.url, "GANTRY_TOKEN": token_create(user=viewer, name="cli")[1]}
    done = gantry("apply", "-f", write_spec(tmp_path), **env)
    assert done.returncode == 1
    assert "error: Your role in this team cannot deploy (ask an owner for the deployer role). (permission_denied)" \
        in done.stderr


def test_yaml_bombs_and_tags_are_refused_over_http(logged_in, tmp_path):
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text('a: &a ["lol", "lol", "lol"]\nb: &b [*a, *a, *a]\nc: &c [*b, *b, *b]\nname: [*c, *c, *c]\n')
    done = logged_in("apply", "-f", str(bomb))
    assert done.returncode == 1
    assert "error: YAML parse error - aliases are not accepted (*a); write the value out where it is used " \
           "(line 2, column 8). (parse_error)" in done.stderr
    tagged = tmp_path / "tagged.yaml"
    tagged.write_text(Path(write_spec(tmp_path)).read_text().replace(
        "image: ghcr.io/acme/llm-server:1.4", "image: !!python/object/apply:os.system ['touch pwned']"))
    done = logged_in("preview", "-f", str(tagged))
    assert done.returncode == 1 and "the tag !!python/object/apply:os.system is not accepted" in done.stderr
    assert done.stdout == ""
    assert not Deployment.objects.exists() and not (tmp_path / "pwned").exists()


def _closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_exit_codes_for_usage_reachability_and_authentication(gantry, live_server, tmp_path):
    spec = write_spec(tmp_path)
    assert gantry("apply", "-f", spec).returncode == 4  # never logged in
    assert "not logged in: run `gantry login`" in gantry("list").stderr
    wrong = gantry("list", GANTRY_URL=live_server.url, GANTRY_TOKEN="wrong")
    assert wrong.returncode == 4 and "Invalid or revoked token. (authentication_failed)" in wrong.stderr
    assert f"hint: create a token at {live_server.url}/tokens/" in wrong.stderr
    down = gantry("list", GANTRY_URL=f"http://127.0.0.1:{_closed_port()}", GANTRY_TOKEN="x")
    assert down.returncode == 3 and "cannot reach http://127.0.0.1:" in down.stderr
    assert "Connection refused" in down.stderr
    assert gantry("apply", "-f", str(tmp_path / "missing.yaml")).returncode == 2
    (tmp_path / "latin1.yaml").write_bytes("name: café\n".encode("latin-1"))
    unreadable = gantry("apply", "-f", str(tmp_path / "latin1.yaml"), GANTRY_URL=live_server.url, GANTRY_TOKEN="x")
    assert unreadable.returncode == 2 and "cannot read" in unreadable.stderr and "utf-8" in unreadable.stderr
    assert gantry("rollback", "llama-chat").returncode == 2  # --to is required
    assert gantry("frobnicate").returncode == 2
    assert "3  the server cannot be reached" in gantry("--help").stdout


def test_logs_and_a_follow_that_ends_within_the_servers_bound(logged_in, tmp_path, sandbox, sandbox_kubeconfig,
                                                              monkeypatch):
    ok(logged_in("apply", "-f", write_spec(tmp_path)))
    client = sandbox.api_client()
    core = kubernetes.client.CoreV1Api(client)
    core.create_namespace({"metadata": {"name": "tenant-nlp"}})
    pod_running(core, "tenant-nlp", "llama-chat-a", labels={"gantry.io/deployment": "llama-chat"})
    client.close()
    lines = ok(logged_in("logs", "llama-chat", "--tail", "2")).splitlines()
    assert len(lines) == 2 and all("POST /v1/chat/completions" in line for line in lines)
    monkeypatch.setattr(cluster_logs, "FOLLOW_SECONDS", 2.5)  # the live server runs in this process
    followed = ok(logged_in("logs", "llama-chat", "-f", "--tail", "1"))
    assert len(followed.splitlines()) >= 3
    missing = logged_in("logs", "llama-chat", "--pod", "gone")
    assert missing.returncode == 1 and "Pod gone is not one of this deployment's pods" in missing.stderr


def test_cost_of_a_team(logged_in):
    out = ok(logged_in("cost", "nlp", "--from", "2025-01-01", "--to", "2025-01-31")).splitlines()
    assert out[0].split() == ["DEPLOYMENT", "COST_USD", "GPU_HOURS", "WARM_COST_USD"]
    assert out[-1] == "total: 0.00 USD from 2025-01-01 to 2025-01-31"
    refused = logged_in("cost", "nlp", "--from", "2025-02-01", "--to", "2025-01-01")
    assert refused.returncode == 1 and "error: from: `from` must be on or before `to`. (invalid)" in refused.stderr
