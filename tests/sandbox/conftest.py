import kubernetes
import pytest

# sandbox, sandbox_simulated, sandbox_kubeconfig come from tests/sandbox_fixtures.py (tests/conftest.py).


@pytest.fixture
def api(sandbox):
    """An official-client ApiClient on the sandbox, without urllib3's silent retries."""
    client = sandbox.api_client()
    yield client
    client.close()


@pytest.fixture
def core(api):
    return kubernetes.client.CoreV1Api(api)


@pytest.fixture
def custom(api):
    return kubernetes.client.CustomObjectsApi(api)


@pytest.fixture
def team_ns(core):
    core.create_namespace({"metadata": {"name": "tenant-nlp"}})
    return "tenant-nlp"


def knative_service(name, *, namespace="tenant-nlp", annotations=None, labels=None, gpu="1", extra_spec=None):
    return {
        "apiVersion": "serving.knative.dev/v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": namespace, "labels": dict(labels or {}),
                     "annotations": {"sandbox.gantry.io/traffic": "idle"}},
        "spec": {"template": {
            "metadata": {"labels": {"gantry.io/deployment": name, "gantry.io/team": "nlp"},
                         "annotations": dict(annotations or {})},
            "spec": {"containers": [{"image": "ghcr.io/example/llm:1",
                                     "resources": {"limits": {"nvidia.com/gpu": gpu}}}], **(extra_spec or {})},
        }},
    }


def apply(custom, obj, *, plural, group="serving.knative.dev", version="v1", force=True):
    meta = obj["metadata"]
    return custom.patch_namespaced_custom_object(
        group, version, meta["namespace"], plural, meta["name"], obj,
        field_manager="gantry", force=force, _content_type="application/apply-patch+yaml")
