"""One log format across the real services, and one command followed through all of them.

Every line of every service's log (mc-migrate's too, and gunicorn's own) is in LOG_FORMAT:
with json each parses as one JSON object, with text each starts with one timestamp, the
level, the service and the logger. A request id sent with POST /api/telecommands is on
ground's access line, on the command-sender's transition lines for that command and on the
spacecraft's access line of the uplink call that carried it. An accepted command, a cancel and
a registry delete each leave an access line naming the user."""

from __future__ import annotations

import json
import re
import uuid

import pytest

from .harness import wait_for

TEXT_LINE = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) ([A-Z]+) (\S+) (\S+): (.*)")
TEXT_FIELD = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|\S+)')
SERVICES = ("ground", "spacecraft", "command-sender", "registry-api")


def parse(line: str, log_format: str) -> dict:
    """A log line as a dict (time, level, service, logger, message, fields); fails the test
    when the line is not in the format."""
    if log_format == "json":
        try:
            record = json.loads(line)
        except ValueError:
            pytest.fail(f"not a JSON line: {line[:300]!r}")
        assert isinstance(record, dict), line
        return record
    match = TEXT_LINE.fullmatch(line)
    assert match, f"not a text log line: {line[:300]!r}"
    time, level, service, logger, rest = match.groups()
    fields = {key: value[1:-1] if value.startswith('"') else value
              for key, value in TEXT_FIELD.findall(rest)}
    return {**fields, "time": time, "level": level, "service": service, "logger": logger,
            "message": rest}


def records(system, log_format: str) -> dict[str, list[dict]]:
    """Every line of every log of the run, parsed, by log file."""
    parsed = {}
    for name, text in system.logs().items():
        lines = text.splitlines()
        assert lines, f"{name} is empty"
        parsed[name] = [parse(line, log_format) for line in lines]
    return parsed


def access_lines(lines: list[dict], **expected) -> list[dict]:
    return [r for r in lines if r["logger"] == "mission_control.access"
            and all(str(r.get(key)) == str(value) for key, value in expected.items())]


@pytest.mark.local_only("reads the log files of its own processes")
@pytest.mark.parametrize("log_format", ["json", "text"])
def test_one_format_everywhere_and_a_request_id_followed_to_the_spacecraft(
        database, system_factory, log_format):
    system = system_factory(services=("ground", "spacecraft", "registry-api"),
                            log_format=log_format)
    operator, admin = system.users["operator"], system.users["admin"]
    with system.session("operator") as http:
        cancelled = http.post(f"{system.ground_url}/api/telecommands", timeout=10,
                              json={"command_name": "PING"}).json()["id"]
        assert http.put(f"{system.ground_url}/api/telecommands/{cancelled}/cancel",
                        timeout=10).status_code == 200
        trace = f"e2e-trace:{uuid.uuid4().hex[:12]}"
        answer = http.post(f"{system.ground_url}/api/telecommands", timeout=10,
                           json={"command_name": "PING"}, headers={"X-Request-ID": trace})
        assert answer.status_code == 201 and answer.headers["X-Request-ID"] == trace
        command_id = answer.json()["id"]
        # Started now, the worker sends the traced command alone: its call has its id.
        system.start("command-sender")
        wait_for(lambda: http.get(f"{system.ground_url}/api/telecommands/{command_id}",
                                  timeout=10).json()["status"] == "EXECUTED",
                 timeout=30, message="the traced command executed")
    with system.session("admin") as http:
        workspaces = f"{system.registry_url}/api/v1/workspaces"
        workspace = http.post(workspaces, json={"name": "Logged"}, timeout=10).json()["id"]
        assert http.delete(f"{workspaces}/{workspace}", timeout=10).status_code == 204
    system.stop_all()  # every process flushed and closed its log

    logs = records(system, log_format)
    assert {"migrate.log", "ground.log", "spacecraft.log", "command-sender.log",
            "registry-api.log"} <= set(logs)
    for name, lines in logs.items():
        assert {r["service"] for r in lines} == {name.removesuffix(".log")}, name
    assert any(r["logger"] == "gunicorn.error" and "Booting worker" in r["message"]
               for r in logs["ground.log"])  # gunicorn's own lines, in the same format

    ground = logs["ground.log"]
    [accepted] = access_lines(ground, method="POST", path="/api/telecommands", request_id=trace)
    assert (str(accepted["status"]), accepted["user"]) == ("201", operator.username)
    [cancel] = access_lines(ground, method="PUT", path=f"/api/telecommands/{cancelled}/cancel")
    assert (str(cancel["status"]), cancel["user"]) == ("200", operator.username)
    [deleted] = access_lines(logs["registry-api.log"], method="DELETE",
                             path=f"/api/v1/workspaces/{workspace}")
    assert (str(deleted["status"]), deleted["user"]) == ("204", admin.username)

    transitions = [r for r in logs["command-sender.log"] if r.get("command_id") == command_id]
    assert len(transitions) >= 3 and all(r["request_id"] == trace for r in transitions)
    assert any("READY -> TRANSMITTED" in r["message"] for r in transitions)
    uplinked = access_lines(logs["spacecraft.log"], method="POST", path="/commands",
                            request_id=trace)  # more than one only if a send was retried
    assert uplinked and all((str(r["status"]), r["user"]) == ("202", "uplink-key")
                        for r in uplinked)
