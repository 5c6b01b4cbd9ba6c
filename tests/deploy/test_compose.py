"""docker-compose.yml: valid for a real compose implementation and for the Compose
Specification's schema; migrate first; secrets from .env; environment names the services
read; ports and service URLs that agree with the settings' defaults."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import urlsplit

import jsonschema
import pytest

from mission_control.hosts import allowed_hosts
from mission_control.serve import SERVICES, bind_address
from mission_control.settings import Settings

from .files import (
    APP_SERVICES, COMPOSE_FILE, DOCKER_COMPOSE, OVERRIDE_FILE, ONE_SHOT, ROOT, compose,
    compose_config, environment, make_env, override, tool, write_env_file,
)

# The Compose Specification's JSON schema, as Debian's docker-compose package ships it.
SPEC_SCHEMA = Path("/usr/lib/python3/dist-packages/compose/config/compose_spec.json")
SETTINGS = {name.upper() for name in Settings.model_fields}
SECRET_SETTINGS = {name.upper() for name, field in Settings.model_fields.items()
                   if "SecretStr" in str(field.annotation)}
# Names our containers get that are not Settings fields, each read by something named here.
NOT_SETTINGS = {
    "postgres": re.compile(r"POSTGRES_(DB|USER|PASSWORD)"),  # the postgres image
    "grafana": re.compile(r"GF_[A-Z_]+"),  # Grafana's own settings
    "e2e": re.compile(r"MC_E2E_[A-Z_]+"),  # the e2e suite's stack mode (tests/e2e)
}
OURS = APP_SERVICES + ONE_SHOT


@pytest.fixture(scope="module")
def env_file(tmp_path_factory):
    return write_env_file(tmp_path_factory.mktemp("env") / ".env")


@pytest.fixture(scope="module")
def resolved(env_file):
    """The stack as docker-compose resolves it, with both files and every profile."""
    return compose_config(env_file)["services"]


def test_docker_compose_accepts_the_stack(env_file):
    config = compose_config(env_file)
    assert set(config["services"]) >= set(OURS) | {"postgres", "prometheus", "grafana"}
    assert compose_config(env_file, COMPOSE_FILE, profiles=())["services"]


def test_docker_compose_refuses_the_stack_without_its_secrets(tmp_path):
    """With no .env, `${NAME:?...}` stops compose with a message naming the way out."""
    result_env = tmp_path / "empty.env"
    result_env.write_text("")
    with pytest.raises(AssertionError, match="make_env.py"):
        compose_config(result_env)


def test_files_match_the_compose_specification_schema():
    if not SPEC_SCHEMA.exists():
        tool("docker-compose", DOCKER_COMPOSE)  # skips or fails with the reason
    schema = json.loads(SPEC_SCHEMA.read_text())
    validator = jsonschema.Draft201909Validator(schema)
    for document in (compose(), override()):
        errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
                  for e in validator.iter_errors(document)]
        assert not errors, errors


def test_the_schema_check_can_fail():
    if not SPEC_SCHEMA.exists():
        tool("docker-compose", DOCKER_COMPOSE)
    validator = jsonschema.Draft201909Validator(json.loads(SPEC_SCHEMA.read_text()))
    broken = compose()
    broken["services"]["ground"]["depends_on"]["migrate"]["condition"] = "when_ready"
    assert list(validator.iter_errors(broken))


def test_migrate_runs_after_postgres_is_healthy_and_before_every_service():
    services = compose()["services"]
    assert services["postgres"]["healthcheck"]["test"][:2] == ["CMD", "pg_isready"]
    assert services["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert services["migrate"]["command"] == ["mc-migrate"]
    assert services["migrate"]["restart"] == "no"
    for name in APP_SERVICES:
        assert services[name]["depends_on"]["migrate"] == {
            "condition": "service_completed_successfully"}, name
    for name in ("ground", "registry-api", "spacecraft", "command-sender"):
        assert services["e2e"]["depends_on"][name] == {"condition": "service_healthy"}


def test_services_restart_and_stop_gracefully():
    services = compose()["services"]
    for name in APP_SERVICES + ("postgres", "prometheus", "grafana"):
        assert services[name]["restart"] == "unless-stopped", name
    for name in APP_SERVICES:
        assert services[name]["stop_grace_period"] == "15s", "above gunicorn's 10 s"


def test_every_service_of_ours_shares_one_environment_and_policy():
    """The x-mission-control entry: what a new service gets with one `<<:` line."""
    document = compose()
    shared, template = document["x-mission-control-environment"], document["x-mission-control"]
    for name in APP_SERVICES:
        service = document["services"][name]
        assert environment(service).items() >= shared.items(), name
        assert all(service[key] == value for key, value in template.items()
                   if key != "environment"), name
    assert environment(document["services"]["migrate"]).items() >= shared.items()


def test_the_demo_fleet_runs_robot_client_after_the_services_it_needs():
    document = compose()
    fleet = document["services"]["demo-fleet"]
    assert fleet["build"]["dockerfile"] == "robot-client/Dockerfile"
    assert environment(fleet).items() >= document["x-mission-control-environment"].items()
    assert "ADMIN_PASSWORD" in environment(fleet)  # it registers its robots as the first admin
    assert fleet["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert {"registry-api", "robot-server"} <= set(fleet["depends_on"])
    assert (fleet["restart"], fleet["stop_grace_period"]) == ("unless-stopped", "15s")
    assert "ports" not in fleet and "healthcheck" not in fleet


def test_two_command_senders_and_no_fixed_port_for_them():
    services = compose()["services"]
    assert services["command-sender"]["deploy"]["replicas"] == 2
    assert "container_name" not in services["command-sender"]
    assert "ports" not in services["command-sender"]
    assert "command-sender" not in override()["services"]


def test_the_database_has_a_named_volume():
    postgres = compose()["services"]["postgres"]
    assert "postgres-data:/var/lib/postgresql/data" in postgres["volumes"]
    assert "postgres-data" in compose()["volumes"]


@pytest.mark.parametrize("name", OURS + ("postgres", "grafana"))
def test_environment_names_are_ones_the_service_reads(name):
    """Compared with the Settings class itself: a misspelt or removed name fails here."""
    names = set(environment(compose()["services"][name]))
    unknown = names - SETTINGS
    other = NOT_SETTINGS.get(name)
    if other:
        unknown = {n for n in unknown if not other.fullmatch(n)}
    assert not unknown, f"{name} sets names nothing reads: {sorted(unknown)}"


def test_every_secret_comes_from_env_and_the_generator_makes_each():
    text = COMPOSE_FILE.read_text()
    required = set(re.findall(r"\$\{(\w+):\?", text))
    assert required == set(make_env().SECRETS), "each ${NAME:?} is generated, and each generated one used"
    for name in OURS:
        env = environment(compose()["services"][name])
        for key in SECRET_SETTINGS & set(env):
            assert env[key] == f"${{{key}:?run make up, or python3 deploy/make_env.py, to create .env}}"
        if "DATABASE_URL" in env:
            assert "${POSTGRES_PASSWORD:?" in env["DATABASE_URL"]
    assert "ADMIN_PASSWORD" not in environment(compose()["services"]["ground"]), \
        "only mc-migrate reads the admin password"
    assert all(re.fullmatch(r"PUBLISH_HOST", v) for v in re.findall(r"\$\{(\w+):-",
               text + OVERRIDE_FILE.read_text())), "other variables are optional with a default"


@pytest.mark.parametrize("name", OURS)
def test_resolved_environment_is_valid_settings(name, resolved):
    """The values docker-compose hands each service pass the settings' own validation."""
    env = {k.lower(): v for k, v in resolved[name].get("environment", {}).items()
           if v is not None and k in SETTINGS}
    settings = Settings(**env)
    assert settings.database_url.startswith("postgresql+psycopg2://mission_control:")
    assert urlsplit(settings.database_url).hostname == "postgres"


@pytest.mark.parametrize("name", ["ground", "registry-api", "spacecraft"])
def test_web_services_listen_on_their_url_port_and_publish_it_on_loopback(name, resolved):
    """A service's URL names it on the compose network with its default port; inside the
    container it listens there on 0.0.0.0 (LISTEN_HOST, set by the image); the same port
    is published on 127.0.0.1, so http://127.0.0.1:5000 works as with `make run`."""
    _, url_setting = SERVICES[name]
    default_port = urlsplit(Settings.model_fields[url_setting].default).port
    url = resolved[name]["environment"][url_setting.upper()]
    assert urlsplit(url).hostname == name and urlsplit(url).port == default_port
    assert bind_address(url, "0.0.0.0") == f"0.0.0.0:{default_port}"
    (port,) = resolved[name]["ports"]
    assert published(port) == ("127.0.0.1", default_port, default_port)


def published(port) -> tuple[str, int, int]:
    """(host address, host port, container port) of a resolved port, in either syntax
    (docker-compose 1.29 writes `127.0.0.1:5000:5000/tcp`, compose v2 a mapping)."""
    if isinstance(port, dict):
        return port.get("host_ip", ""), int(port["published"]), int(port["target"])
    match = re.fullmatch(r"(?:([\d.]+):)?(\d+):(\d+)(?:/tcp)?", port)
    assert match, f"unexpected port {port!r}"
    return match.group(1) or "", int(match.group(2)), int(match.group(3))


def test_every_service_url_names_a_service_of_the_stack(resolved):
    url_names = {SERVICES[name][1].upper() for name in SERVICES}
    for name in OURS:
        env = resolved[name].get("environment", {})
        for key in url_names & set(env):
            assert urlsplit(env[key]).hostname in resolved, f"{name}: {key}={env[key]}"


@pytest.mark.parametrize("name", ["ground", "registry-api", "spacecraft"])
def test_the_host_check_admits_service_names_and_localhost(name, resolved):
    env = {k.lower(): v for k, v in resolved[name]["environment"].items()
           if v is not None and k in SETTINGS}
    hosts = allowed_hosts(Settings(**env))
    assert hosts is None or {"ground", "registry-api", "spacecraft", "localhost",
                             "127.0.0.1"} <= hosts


def test_the_documented_allowed_hosts_for_a_public_stack_keep_the_stack_working():
    """docs/deployment.md's ALLOWED_HOSTS example replaces the defaults: it must still admit
    the health checks (127.0.0.1), Prometheus and the e2e suite (the service names)."""
    (example,) = re.findall(r"`ALLOWED_HOSTS=([^`]+)`", (ROOT / "docs" / "deployment.md").read_text())
    hosts = allowed_hosts(Settings(allowed_hosts=example))
    assert {"ground", "registry-api", "spacecraft", "localhost", "127.0.0.1"} <= hosts


def test_the_worker_metrics_port_is_the_one_prometheus_and_the_healthcheck_use(resolved):
    worker = Settings(**{k.lower(): v for k, v in resolved["command-sender"]["environment"].items()
                         if v is not None and k in SETTINGS})
    assert worker.metrics_port == 9100
    assert resolved["e2e"]["environment"]["MC_E2E_WORKER_METRICS_URLS"] == \
        f"http://command-sender:{worker.metrics_port}"


def test_the_stack_without_the_override_publishes_nothing(env_file):
    """`make compose-test` leaves the override out: its stack runs beside `make up`'s."""
    services = compose_config(env_file, COMPOSE_FILE)["services"]
    assert not [name for name, service in services.items() if service.get("ports")]


def test_profiles_keep_tests_and_observability_out_of_a_plain_up():
    services = compose()["services"]
    assert services["e2e"]["profiles"] == ["test"]
    assert services["prometheus"]["profiles"] == services["grafana"]["profiles"] == ["observability"]
    assert all("profiles" not in services[name] for name in APP_SERVICES + ("postgres", "migrate"))


def test_the_env_file_is_git_ignored():
    assert ".env" in (ROOT / ".gitignore").read_text().splitlines()
