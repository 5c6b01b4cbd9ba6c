"""ground's access lines name the signed-in user, and a new telecommand keeps the request id
of the call that created it (the command-sender carries it on), on SQLite and PostgreSQL."""

from __future__ import annotations

import logging
import re
import uuid

import pytest
from sqlalchemy import select

from mission_control.models import Telecommand

HEX_ID = re.compile(r"[0-9a-f]{32}")


@pytest.fixture
def access(caplog):
    caplog.set_level(logging.DEBUG, "mission_control.access")
    return lambda: [r for r in caplog.records if r.name == "mission_control.access"]


def stored_request_id(database, command_id) -> str | None:
    with database.transaction() as session:
        return session.scalar(select(Telecommand.request_id)
                              .where(Telecommand.id == uuid.UUID(command_id)))


def test_a_new_command_keeps_the_request_id_and_the_access_line_names_the_user(
        client, database, access):
    answer = client.post("/api/telecommands", json={"command_name": "PING"},
                         headers={"X-Request-ID": "ops-console:42"})
    assert answer.status_code == 201 and answer.headers["X-Request-ID"] == "ops-console:42"
    assert stored_request_id(database, answer.get_json()["id"]) == "ops-console:42"
    assert answer.get_json()["request_id"] == "ops-console:42"
    [line] = access()
    shown = client.get(f"/api/telecommands/{answer.get_json()['id']}").get_json()
    assert shown["request_id"] == "ops-console:42"
    assert (line.method, line.path, line.status, line.user, line.request_id) == (
        "POST", "/api/telecommands", 201, "operator", "ops-console:42")


def test_without_a_usable_request_id_the_command_keeps_the_one_made_for_it(client, database):
    answer = client.post("/api/telecommands", json={"command_name": "PING"},
                         headers={"X-Request-ID": "has spaces"})
    made = answer.headers["X-Request-ID"]
    assert HEX_ID.fullmatch(made)
    assert stored_request_id(database, answer.get_json()["id"]) == made


def test_a_command_sent_from_the_page_keeps_its_request_id(client, database):
    answer = client.post("/ui/telecommands", data={"target": "spacecraft",
                                                   "command_name": "PING"},
                         headers={"HX-Request": "true", "X-Request-ID": "page-7"})
    assert answer.status_code == 201
    with database.transaction() as session:
        [(command_id, request_id)] = session.execute(
            select(Telecommand.id, Telecommand.request_id)).all()
    assert request_id == "page-7"
    # the detail view shows it, to look the command up in the logs
    assert "data-request-id>page-7</dd>" in client.get(f"/telecommands/{command_id}").text


def test_a_cancel_and_a_refusal_leave_access_lines(client, anonymous, access):
    command_id = client.post("/api/telecommands", json={"command_name": "PING"}).get_json()["id"]
    assert client.put(f"/api/telecommands/{command_id}/cancel").status_code == 200
    assert anonymous.get("/api/telecommands?status=READY").status_code == 401
    created, cancelled, refused = access()
    assert (cancelled.method, cancelled.path, cancelled.status, cancelled.user) == (
        "PUT", f"/api/telecommands/{command_id}/cancel", 200, "operator")
    assert (refused.path, refused.status, refused.user) == ("/api/telecommands", 401, "-")
    assert created.request_id != cancelled.request_id
