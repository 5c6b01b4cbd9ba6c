"""deploy/make_env.py: the stack's .env with random secrets, private, never overwritten."""

from __future__ import annotations

import os
import stat
import sys

from mission_control.users import password_problem

from .files import MAKE_ENV, make_env, run


def read_env(path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines()
                if line and not line.startswith("#"))


def test_a_new_env_file_is_private_and_holds_distinct_random_secrets(tmp_path):
    module = make_env()
    path = tmp_path / ".env"
    old_umask = os.umask(0o022)  # a umask that would leave a plain new file world-readable
    try:
        result = run(sys.executable, str(MAKE_ENV), str(path))
    finally:
        os.umask(old_umask)
    assert result.returncode == 0, result.stderr
    assert "created" in result.stdout and str(path) in result.stdout
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    values = read_env(path)
    assert set(values) == set(module.SECRETS)
    assert len(set(values.values())) == len(values), "every secret is its own value"
    for value in values.values():
        assert len(value) >= 32 and value.replace("-", "").replace("_", "").isalnum()
    assert password_problem(values["ADMIN_PASSWORD"]) is None, "mc-migrate accepts it"
    other = tmp_path / "other.env"
    module.ensure_env(other)
    assert not set(read_env(other).values()) & set(values.values()), "random on each run"


def test_an_existing_env_file_is_never_rewritten(tmp_path):
    path = tmp_path / ".env"
    make_env().ensure_env(path)
    before = path.read_text()
    path.chmod(0o640)  # the owner's choice stays too
    result = run(sys.executable, str(MAKE_ENV), str(path))
    assert result.returncode == 0 and result.stdout == ""
    assert path.read_text() == before
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_secrets_an_older_env_file_lacks_are_appended_and_its_values_kept(tmp_path):
    path = tmp_path / ".env"
    path.write_text("# mine\nADMIN_PASSWORD=chosen-by-me-long-enough\nexport UPLINK_KEY=k1\nEXTRA=1")
    written = make_env().ensure_env(path)
    assert written == ["POSTGRES_PASSWORD", "SECRET_KEY", "GRAFANA_ADMIN_PASSWORD", "TELEMETRY_TOKEN",
                       "MQTT_SERVER_PASSWORD", "MQTT_FLEET_PASSWORD"]
    text = path.read_text()
    assert text.startswith("# mine\nADMIN_PASSWORD=chosen-by-me-long-enough\nexport UPLINK_KEY=k1\nEXTRA=1\n")
    values = read_env(path)
    assert values["ADMIN_PASSWORD"] == "chosen-by-me-long-enough"
    assert {"POSTGRES_PASSWORD", "SECRET_KEY", "GRAFANA_ADMIN_PASSWORD"} <= set(values)
    assert make_env().ensure_env(path) == [] and path.read_text() == text


def test_the_telemetry_token_is_a_token_mc_migrate_accepts(tmp_path):
    from mission_control.auth import looks_like_token

    path = tmp_path / ".env"
    make_env().ensure_env(path)
    values = dict(line.split("=", 1) for line in path.read_text().splitlines()
                  if line and not line.startswith("#"))
    assert looks_like_token(values["TELEMETRY_TOKEN"])
