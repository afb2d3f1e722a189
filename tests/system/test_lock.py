"""The Python lock files (requirements/, made by scripts/lock.sh): every requirement of pyproject.toml pinned with
its hashes, one version of a package in all three, the sandbox's packages out of the production image, and
every install path (scripts/install.sh for make run, make test and CI; the Dockerfile) installing from them."""

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
LOCKS = ROOT / "requirements"
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
EXTRAS = PROJECT["optional-dependencies"]
# Which requirements each lock file serves (scripts/lock.sh compiles it with these extras).
SERVES = {"base.txt": (), "sandbox.txt": ("sandbox",), "dev.txt": ("sandbox", "test")}
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")


def _pins(name):
    """{package: (version, number of hashes)} of one lock file."""
    pins, current = {}, None
    for line in (LOCKS / name).read_text().splitlines():
        if match := PIN.match(line):
            current = canonicalize_name(match[1])
            pins[current] = [match[2], 0]
        elif current and line.strip().startswith("--hash=sha256:"):
            pins[current][1] += 1
    return pins


@pytest.mark.parametrize("lock", SERVES)
def test_every_requirement_is_pinned_within_its_range_with_hashes(lock):
    pins = _pins(lock)
    wanted = [*PROJECT["dependencies"], *(r for extra in SERVES[lock] for r in EXTRAS[extra])]
    stale = []
    for line in wanted:
        requirement = Requirement(line)
        pinned = pins.get(canonicalize_name(requirement.name))
        if pinned is None or not requirement.specifier.contains(pinned[0], prereleases=True):
            stale.append(f"{line} (locked: {pinned[0] if pinned else 'missing'})")
    assert not stale, f"requirements/{lock} is behind pyproject.toml, run scripts/lock.sh: {stale}"
    assert all(hashes for _, hashes in pins.values()), "pip's hash-checking mode needs a hash for every package"


def test_a_package_has_one_version_in_every_lock():
    dev = _pins("dev.txt")
    for lock in ("base.txt", "sandbox.txt"):
        pins = _pins(lock)
        assert pins.keys() <= dev.keys()
        assert {name: version for name, (version, _) in pins.items()} == {
            name: dev[name][0] for name in pins}, lock


def test_the_sandbox_and_the_tools_stay_out_of_the_production_image():
    base = _pins("base.txt")
    for package in ("kmock", "honcho", "pytest", "playwright", "hypothesis"):
        assert package not in base
    assert {"kmock", "honcho"} <= _pins("sandbox.txt").keys()


def test_every_install_path_installs_from_the_lock():
    install = (ROOT / "scripts" / "install.sh").read_text()
    assert "pip install -q --require-hashes -r requirements/dev.txt" in install
    assert "--no-deps -e '.[sandbox,test]'" in install  # the project itself, nothing resolved again
    assert "scripts/install.sh" in (ROOT / ".ci" / "run").read_text()
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "pip install --require-hashes -r requirements/base.txt" in dockerfile
    assert "--require-hashes -r /tmp/sandbox.txt" in dockerfile
    assert not re.search(r"pip install (?!--require-hashes|--no-deps|--no-cache-dir --require-hashes)", dockerfile)
