"""`make up`, `make down`, `make logs` and `make compose-test`, run for real against a stand-in
for the compose command (no Docker engine here): what they create, call and report."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess

import pytest

from .files import COMPOSE_FILE, MAKE_ENV, MAKE_MOSQUITTO, OVERRIDE_FILE, ROOT

# Records each call (arguments, and the delays it was given) and fails `run` on request.
STAND_IN = """#!/bin/sh
echo "$0 $* | delay=${MAX_TRANSMIT_DELAY_S:-unset}" >> "$CALLS"
case " $* " in *" run "*) exit "${RUN_EXIT:-0}";; esac
"""


@pytest.fixture
def checkout(tmp_path):
    """The files the targets use, in a scratch directory, and a PATH whose compose is ours."""
    if not shutil.which("make"):
        pytest.skip("make is not installed")
    root = tmp_path / "repo"
    (root / "deploy").mkdir(parents=True)
    (root / "core" / "mission_control").mkdir(parents=True)
    for path in (ROOT / "Makefile", COMPOSE_FILE, OVERRIDE_FILE, MAKE_ENV, MAKE_MOSQUITTO,
                 ROOT / "core" / "mission_control" / "broker_files.py"):
        shutil.copy(path, root / path.relative_to(ROOT))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    return root, bin_dir


def stand_in(bin_dir, name: str, body: str) -> None:
    path = bin_dir / name
    path.write_text(body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def make(root, bin_dir, *args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}",
                   "CALLS": str(root / "calls.log"), **env}
    for name in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "COMPOSE", "COMPOSE_PROJECT_NAME",
                 "PUBLISH_HOST", "PYTEST_ARGS", "COMPOSE_PROFILES"):
        if name not in env:
            environment.pop(name, None)
    return subprocess.run(["make", "--no-print-directory", "-C", str(root), *args],
                          env=environment, capture_output=True, text=True, timeout=60)


def calls(root) -> list[str]:
    path = root / "calls.log"
    return path.read_text().splitlines() if path.exists() else []


@pytest.fixture
def standalone(checkout):
    """A docker CLI without the compose plugin, and the standalone docker-compose."""
    root, bin_dir = checkout
    stand_in(bin_dir, "docker", "#!/bin/sh\nexit 1\n")
    stand_in(bin_dir, "docker-compose", STAND_IN)
    return root, bin_dir


def test_up_creates_a_private_env_then_starts_the_stack_and_says_where_to_sign_in(standalone):
    root, bin_dir = standalone
    result = make(root, bin_dir, "up")
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE((root / ".env").stat().st_mode) == 0o600
    (call,) = calls(root)
    assert call.startswith(f"{bin_dir}/docker-compose -p mission-control up -d --build")
    assert "http://127.0.0.1:5000/" in result.stdout
    assert f"as admin, password: ADMIN_PASSWORD in {root}/.env" in result.stdout
    secrets_before = (root / ".env").read_text()
    assert make(root, bin_dir, "up").returncode == 0
    assert (root / ".env").read_text() == secrets_before, "a second `make up` keeps the secrets"


def test_down_and_logs_address_the_same_project(standalone):
    root, bin_dir = standalone
    assert make(root, bin_dir, "down").returncode == 0
    assert make(root, bin_dir, "logs").returncode == 0
    down, logs = calls(root)
    assert " -p mission-control " in down and down.split(" | ")[0].endswith(" down --remove-orphans")
    assert "--profile observability" in down, "down also stops Prometheus and Grafana"
    assert " -p mission-control logs --follow" in logs


def test_compose_test_runs_the_suite_on_its_own_stack_and_always_removes_it(standalone):
    root, bin_dir = standalone
    result = make(root, bin_dir, "compose-test", "PYTEST_ARGS=-k pipeline", RUN_EXIT="3")
    assert result.returncode != 0, "pytest's failure is make's failure"
    build, run, down = calls(root)
    for call in (build, run, down):
        assert " -p mission-control-test -f docker-compose.yml --profile test " in call
    assert build.split(" | ")[0].endswith(" build")
    assert " run --rm e2e python -m pytest tests/e2e -p no:cacheprovider -k pipeline" in run
    assert run.endswith("delay=1"), "the test stack runs with short delays"
    assert " down --volumes --remove-orphans" in down, "removed even when the suite failed"
    assert (root / ".env").exists()


def test_compose_test_passes_when_the_suite_passes(standalone):
    root, bin_dir = standalone
    result = make(root, bin_dir, "compose-test")
    assert result.returncode == 0, result.stderr
    assert len(calls(root)) == 3


def test_the_compose_plugin_is_preferred_when_docker_has_it(checkout):
    root, bin_dir = checkout
    stand_in(bin_dir, "docker", STAND_IN.replace(
        "#!/bin/sh\n", '#!/bin/sh\n[ "$1 $2" = "compose version" ] && exit 0\n'))
    assert make(root, bin_dir, "up").returncode == 0
    (call,) = calls(root)
    assert call.startswith(f"{bin_dir}/docker compose -p mission-control up -d --build")
