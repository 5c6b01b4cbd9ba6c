"""A bad value in the environment stops a program with a message naming the variable, not a
traceback; a value that may hold a secret is never echoed."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from pydantic import BaseModel, ValidationError

from mission_control.settings import ConfigurationError

PROGRAMS = [
    [sys.executable, "-m", "mission_control.migrate"],
    [sys.executable, "-m", "mission_control.serve", "ground"],
    [sys.executable, "-m", "command_sender.main"],
]


@pytest.mark.parametrize("program", PROGRAMS, ids=lambda p: p[2])
def test_a_bad_setting_stops_the_program_with_its_name_and_reason(program, tmp_path):
    env = {**os.environ, "VAR_DIR": str(tmp_path), "LOG_FORMAT": "xml", "METRICS_PORT": "99999",
           "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"}
    done = subprocess.run(program, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert "LOG_FORMAT='xml': Input should be 'text' or 'json'" in done.stderr
    assert "METRICS_PORT='99999': Input should be less than or equal to 65535" in done.stderr


def test_a_value_that_may_be_secret_is_not_echoed(capsys):
    class Example(BaseModel):
        database_url: int
        admin_password: int
        poll_interval_s: int

    with pytest.raises(ValidationError) as raised:
        Example.model_validate({"database_url": "postgresql://u:hunter2@db/x",
                                "admin_password": "hunter3", "poll_interval_s": "soon"})
    with pytest.raises(SystemExit) as stopped:
        raise ConfigurationError(raised.value)
    assert stopped.value.code == 2
    printed = capsys.readouterr().err
    assert "DATABASE_URL: Input should be a valid integer" in printed
    assert "ADMIN_PASSWORD: Input should be a valid integer" in printed
    assert "POLL_INTERVAL_S='soon': Input should be a valid integer" in printed
    assert "hunter2" not in printed and "hunter3" not in printed
