"""Personas in one place: an owner, a deployer, a viewer, an outsider, platform staff."""

import pytest
from django.test import Client

from teams.models import Role

from .factories import MembershipFactory, TeamFactory, UserFactory


def pytest_configure(config):
    # Real hashing costs ~0.3 s per user; tests need many users, not strong hashes.
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


pytest_plugins = [
    "tests.sandbox_fixtures", "tests.worker_fixtures", "tests.browser_fixtures", "tests.dispatch_fixtures",
    "tests.api_fixtures", "tests.prometheus_fixtures",
]


def pytest_collection_modifyitems(config, items):
    """Markers from what a test uses, so `-m "not slow"` stays right as tests are added."""
    for item in items:
        path = item.path.as_posix()
        if "celery_worker_factory" in getattr(item, "fixturenames", ()):
            item.add_marker("worker")
        if "/tests/system/browser/" in path:
            item.add_marker("browser")
        if "/tests/system/faults/" in path:
            item.add_marker("faults")
        # The cross-app suites (security, hostile input, RBAC, the end-to-end script) are slow too.
        if "/tests/system/" in path or any(item.get_closest_marker(name) for name in ("worker", "browser", "faults")):
            item.add_marker("slow")


def _catalog_seed_if_flushed():
    # A transactional test ends with a flush, which also empties the catalog that the data
    # migration seeded; put it back for the tests that follow.
    import importlib

    from django.apps import apps

    from catalog.models import GpuClass, ModelFamily

    if not GpuClass.objects.exists():
        importlib.import_module("catalog.migrations.0002_seed_catalog").seed(apps, None)
    if not ModelFamily.objects.exists():
        importlib.import_module("catalog.migrations.0004_seed_model_families").seed(apps, None)


@pytest.fixture(autouse=True)
def _seeded_catalog(request):
    marker = request.node.get_closest_marker("django_db")
    names = request.fixturenames
    transactional = "transactional_db" in names or "live_server" in names or (
        marker is not None and (marker.kwargs.get("transaction") or (marker.args and marker.args[0])))
    if transactional:
        request.getfixturevalue("transactional_db")
    elif marker is not None or "db" in names:
        request.getfixturevalue("db")
    else:
        return
    _catalog_seed_if_flushed()


@pytest.fixture
def team(db):
    return TeamFactory(slug="nlp", name="NLP")


@pytest.fixture
def other_team(db):
    return TeamFactory(slug="vision", name="Vision")


def _member(team, username, role):
    return MembershipFactory(user=UserFactory(username=username), team=team, role=role).user


@pytest.fixture
def owner(team):
    return _member(team, "olivia-owner", Role.OWNER)


@pytest.fixture
def deployer(team):
    return _member(team, "dan-deployer", Role.DEPLOYER)


@pytest.fixture
def viewer(team):
    return _member(team, "vic-viewer", Role.VIEWER)


@pytest.fixture
def outsider(other_team):
    return _member(other_team, "oscar-outsider", Role.OWNER)


@pytest.fixture
def staff(db):
    return UserFactory(username="sam-staff", is_staff=True, is_superuser=True)


@pytest.fixture
def login():
    """login(user) -> a Django test Client logged in as that user."""

    def _login(user):
        client = Client()
        client.force_login(user)
        return client

    return _login
