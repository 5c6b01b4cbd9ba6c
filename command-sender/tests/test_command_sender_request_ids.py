"""A command's request id (the X-Request-ID it was created with on ground) follows it: on each
of the worker's transition lines, and as the X-Request-ID of the uplink calls that carry it,
which the target's access lines show. A call carrying several commands gets a new id and one
line naming each command with its own request id."""

from __future__ import annotations

import logging
import re

import pytest

from mission_control.testing import gen_command


@pytest.fixture
def records(caplog):
    caplog.set_level(logging.INFO)
    return lambda name: [r for r in caplog.records if r.name == name]


def uplink_access_lines(records) -> list[logging.LogRecord]:
    """The spacecraft's access lines of POST /commands (it runs in this process)."""
    return [r for r in records("mission_control.access") if r.path == "/commands"]


def test_a_single_commands_request_id_is_on_its_transitions_and_its_uplink_call(
        database, make_worker, running, settle, records):
    command_id = gen_command(database, request_id="ground-req-1")
    worker = make_worker()
    with running(worker):
        settle(database)
    transitions = [r for r in records("command_sender") if r.getMessage().startswith("command ")]
    assert [r.getMessage().split(" ", 2)[2] for r in transitions] == [
        "READY -> TRANSMITTED", "TRANSMITTED -> ACKNOWLEDGED", "ACKNOWLEDGED -> EXECUTED"]
    assert all((r.command_id, r.request_id, r.worker_id) ==
               (str(command_id), "ground-req-1", worker.worker_id) for r in transitions)
    [sent] = uplink_access_lines(records)
    assert (sent.status, sent.request_id) == (202, "ground-req-1")


def test_a_call_carrying_several_commands_gets_a_new_id_and_names_them_all(
        database, make_worker, running, settle, records):
    ids = {gen_command(database, request_id=f"req-{n}"): f"req-{n}" for n in range(3)}
    no_id = gen_command(database)  # created before request ids were kept
    with running(make_worker(worker_batch_size=10)):
        settle(database)
    [carried] = [r for r in records("command_sender")
                 if r.getMessage() == "uplink POST /commands carries 4 commands"]
    assert carried.commands == {**{str(c): rid for c, rid in ids.items()}, str(no_id): None}
    assert re.fullmatch(r"[0-9a-f]{32}", carried.request_id)
    [sent] = uplink_access_lines(records)
    assert sent.request_id == carried.request_id
