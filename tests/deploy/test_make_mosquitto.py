"""deploy/make_mosquitto.py: the stack's Mosquitto password file and ACL from .env, with the
standard library only; .env's passwords win on each run, other users are kept."""

from __future__ import annotations

import importlib.util
import stat
import subprocess
import sys

import pytest

from mission_control import broker_files

from .files import MAKE_MOSQUITTO as SCRIPT, ROOT, compose, environment, make_env


def load():
    spec = importlib.util.spec_from_file_location("make_mosquitto", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_files_hold_the_env_passwords_and_keep_other_users(tmp_path):
    env = tmp_path / ".env"
    make_env().ensure_env(env)
    values = dict(line.split("=", 1) for line in env.read_text().splitlines()
                  if line and not line.startswith("#"))
    out = tmp_path / "mosquitto"
    broker_files.set_password(out / "passwd", "6f3f82cd-6a54-4f4d-a003-1ce4d343b247", "robot")
    broker_files.set_password(out / "passwd", "robot-server", "an old password")

    load().write_files(env, out)

    entries = broker_files.read_entries(out / "passwd")
    assert broker_files.matches(entries["robot-server"], values["MQTT_SERVER_PASSWORD"])
    assert broker_files.matches(entries["demo-fleet"], values["MQTT_FLEET_PASSWORD"])
    assert broker_files.matches(entries["6f3f82cd-6a54-4f4d-a003-1ce4d343b247"], "robot")
    acl = (out / "acl").read_text()
    assert "user demo-fleet\ntopic write robots/+/status" in acl
    assert "pattern readwrite robots/%u/#" in acl
    for name in ("passwd", "acl"):
        assert stat.S_IMODE((out / name).stat().st_mode) == 0o600


def test_an_env_file_without_the_broker_passwords_is_refused(tmp_path):
    env = tmp_path / ".env"
    env.write_text("ADMIN_PASSWORD=x\n")
    with pytest.raises(SystemExit, match="MQTT_SERVER_PASSWORD"):
        load().write_files(env, tmp_path / "mosquitto")


def test_it_runs_with_the_standard_library_alone(tmp_path):
    env = tmp_path / ".env"
    make_env().ensure_env(env)
    result = subprocess.run([sys.executable, "-I", "-S", str(SCRIPT), str(env)],
                            capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "passwd and acl written" in result.stdout


def test_robot_server_and_the_demo_fleet_use_the_stacks_broker():
    services = compose()["services"]
    assert services["mosquitto"]["image"].startswith("eclipse-mosquitto:2")
    assert "./deploy/mosquitto:/mc-mosquitto:ro" in services["mosquitto"]["volumes"]
    assert environment(services["robot-server"])["MQTT_URL"].startswith(
        "mqtt://robot-server:${MQTT_SERVER_PASSWORD:?")
    fleet = services["demo-fleet"]
    assert environment(fleet)["MQTT_URL"].startswith("mqtt://demo-fleet:${MQTT_FLEET_PASSWORD:?")
    assert fleet["command"][-2:] == ["--transport", "mqtt"]
    conf = (ROOT / "deploy" / "mosquitto" / "mosquitto.conf").read_text()
    assert "allow_anonymous false" in conf and "acl_file /mosquitto/config/acl" in conf
