"""Every image of docker-compose.yml: an existing Dockerfile that lints clean, shares the core
stage, runs as non-root with a health check and its service as PID 1, and copies only files
that exist and that .dockerignore lets into the build context."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from docker.utils.build import exclude_paths

from mission_control.serve import SERVICES
from mission_control.settings import Settings

from .files import (
    APP_SERVICES, HADOLINT, ROOT, Instruction, compose, dockerfile_of, env_names, exec_form, instructions,
    last, run, stage_text, tool,
)

BUILT = {name: service for name, service in compose()["services"].items() if "build" in service}
DOCKERFILES = sorted({dockerfile_of(service) for service in BUILT.values()})
# ENV names of ours that are not Settings fields: Python's and pip's own, and the e2e suite's.
OTHER_ENV = {"PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED", "PIP_NO_CACHE_DIR",
             "PIP_DISABLE_PIP_VERSION_CHECK", "PIP_ROOT_USER_ACTION", "MC_E2E_STACK"}


def rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def test_every_service_we_build_has_its_dockerfile_in_its_folder():
    assert set(APP_SERVICES) <= set(BUILT)
    for name, service in BUILT.items():
        assert service["build"]["context"] == ".", f"{name}: the context is the repository root"
        assert dockerfile_of(service).is_file(), f"{name}: no {dockerfile_of(service)}"
    for name in APP_SERVICES:
        assert dockerfile_of(BUILT[name]) == ROOT / name / "Dockerfile"


@pytest.mark.parametrize("path", DOCKERFILES, ids=rel)
def test_the_core_stage_is_the_same_in_every_dockerfile(path):
    """Identical first stages let the build cache build the core layers once for all images."""
    reference = stage_text(ROOT / "ground" / "Dockerfile", 0)
    assert stage_text(path, 0) == reference
    first = instructions(path)[0]
    assert first.name == "FROM" and first.value.endswith(" AS core")
    assert all(i.value.startswith("core AS ") for i in instructions(path) if i.name == "FROM"
               and i.stage > 0), "later stages build on the core stage"


def test_the_base_image_is_a_pinned_slim_python_3_11():
    image = instructions(ROOT / "ground" / "Dockerfile")[0].value.split()[0]
    assert re.fullmatch(r"python:3\.11\.\d+-slim-\w+", image), image


@pytest.mark.parametrize("path", DOCKERFILES, ids=rel)
def test_the_image_runs_as_an_unprivileged_user(path):
    user = last(path, "USER")
    assert user is not None, "no USER: the image would run as root"
    name = user.value.partition(":")[0]
    assert name not in {"root", "0"} and name.isdigit(), f"USER {user.value}"
    creates = " ".join(i.value for i in instructions(path) if i.name == "RUN")
    assert f"--uid {name}" in creates, "the user is created in the image"


@pytest.mark.parametrize("path", DOCKERFILES, ids=rel)
def test_cmd_is_exec_form_and_runs_a_real_entry_point(path):
    cmd = last(path, "CMD")
    argv = exec_form(cmd.value) if cmd else None
    assert argv, f"{rel(path)}: CMD must be a JSON array, so the program is PID 1 and gets SIGTERM"
    assert last(path, "ENTRYPOINT") is None, "no ENTRYPOINT shell wrapper in front of it"
    service = path.parent.name
    if service in SERVICES:
        assert argv == ["mc-serve", service]
    elif service == "command-sender":
        assert argv == ["command-sender"]
    elif service == "robot-client":  # the demo fleet: unattended, idles when it cannot start
        assert argv[:2] == ["robot-client", "fleet"] and "--demo" in argv
    else:  # the e2e image
        assert argv[:4] == ["python", "-m", "pytest", "tests/e2e"]
    stop = last(path, "STOPSIGNAL")
    assert stop is None or stop.value == "SIGTERM"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_every_service_image_has_a_healthcheck_of_its_own_service(name):
    path = ROOT / name / "Dockerfile"
    check = last(path, "HEALTHCHECK")
    assert check is not None, f"{name}: no HEALTHCHECK"
    _, _, command = check.value.partition("CMD")
    assert exec_form(command.strip()) == ["python", "/usr/local/lib/mc-healthcheck.py", name]
    timeout = re.search(r"--timeout=(\d+)s", check.value)
    assert timeout and int(timeout.group(1)) > 4, "longer than the script's own 4 s timeout"
    copies = [i for i in instructions(path) if i.name == "COPY"]
    assert any(c.value.split()[-1] == "/usr/local/lib/mc-healthcheck.py" for c in copies)


@pytest.mark.parametrize("path", DOCKERFILES, ids=rel)
def test_env_names_are_settings_or_named_exceptions(path):
    settings = {name.upper() for name in Settings.model_fields}
    assert env_names(path) - settings - OTHER_ENV == set()
    env = dict(token.split("=", 1) for i in instructions(path) if i.name == "ENV"
               for token in shlex.split(i.value))
    assert env["LISTEN_HOST"] == "0.0.0.0", "a container's URL names the service, not an interface"


def _copy_sources(instruction: Instruction) -> list[str]:
    words = [w for w in shlex.split(instruction.value) if not w.startswith("--")]
    if "--from=" in instruction.value:
        return []  # from another stage, not the build context
    return words[:-1]


def _context_files() -> set[str]:
    """The files Docker sends as the build context (the repository root), after .dockerignore."""
    patterns = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.lstrip().startswith("#")]
    return set(exclude_paths(str(ROOT), patterns))


@pytest.fixture(scope="module")
def context_files():
    return _context_files()


@pytest.mark.parametrize("path", DOCKERFILES, ids=rel)
def test_copy_sources_exist_and_are_in_the_build_context(path, context_files):
    for instruction in instructions(path):
        if instruction.name in {"ADD"}:
            pytest.fail(f"{rel(path)}:{instruction.line}: use COPY, not ADD")
        if instruction.name != "COPY":
            continue
        for source in _copy_sources(instruction):
            assert (ROOT / source).exists(), f"{rel(path)}:{instruction.line}: no {source}"
            sent = {f for f in context_files if f == source or f.startswith(source.rstrip("/") + "/")}
            assert sent, f"{rel(path)}:{instruction.line}: .dockerignore keeps {source} out"


def test_dockerignore_keeps_local_state_tests_and_secrets_out(context_files, tmp_path):
    kept_out = (".git/", ".venv/", "var/", "docs/", "bench/", ".ci/", "core/tests/",
                "ground/tests/", "command-sender/tests/", "registry-api/tests/",
                "spacecraft/tests/", "tests/deploy/", "tests/test_docs.py")
    for file in context_files:
        assert not file.startswith(kept_out), f"{file} is in the build context"
        assert "__pycache__" not in file and ".egg-info" not in file, file
        assert Path(file).name != ".env", "secrets must never reach an image"
    assert any(f.startswith("tests/e2e/") for f in context_files), "the e2e image needs the suite"


def test_dockerignore_would_keep_a_secrets_file_and_caches_out(tmp_path):
    """The patterns hold for files that appear later (a .env, a venv, bytecode)."""
    patterns = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.lstrip().startswith("#")]
    for name in (".env", "ground/.env", "core/mission_control/__pycache__/x.pyc",
                 "ground/.venv/bin/python", "var/uplink-key", "ground/var/x.db",
                 "core/build/lib/x.py", "ground/tests/test_x.py", "core/mission_control/x.pyc"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    (tmp_path / "ground" / "app.py").write_text("x")
    sent = {f for f in exclude_paths(str(tmp_path), patterns) if (tmp_path / f).is_file()}
    assert sent == {"ground/app.py"}


def test_hadolint_finds_nothing_in_any_dockerfile():
    hadolint = tool("hadolint", HADOLINT)
    result = run(hadolint, "--no-color", *map(str, DOCKERFILES))
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


def test_hadolint_does_report_a_bad_dockerfile(tmp_path):
    """The lint above can fail: a root image with a shell-form CMD is reported."""
    hadolint = tool("hadolint", HADOLINT)
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN pip install flask\nCMD mc-serve ground\n")
    result = run(hadolint, "--no-color", str(bad))
    assert result.returncode != 0
    assert "DL3007" in result.stdout and "DL3025" in result.stdout
