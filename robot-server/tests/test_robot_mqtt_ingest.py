"""MQTT messages of robots ingested like HTTP heartbeats (robot_server.mqtt_ingest): what a
message on robots/{id}/status or robots/{id}/telemetry writes, and every message that is
dropped instead, with nothing written. The broker itself is in tests/e2e/test_mqtt_e2e.py."""

from __future__ import annotations

import json
import uuid

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select

from mission_control.registry_models import Module, Robot
from mission_control.robot_models import RobotSession
from robot_server import presence
from robot_server.mqtt_ingest import shown
from robot_server.testing import add_robot, auth, token_of

MQTT_URL = "mqtt://robot-server:secret@127.0.0.1:1"  # never connected: start() is not called


@pytest.fixture
def app(make_app):
    return make_app(mqtt_url=MQTT_URL)


@pytest.fixture
def ingest(app):
    return app.extensions["mqtt_ingest"]


def _row(database, robot_id):
    with database.autocommit() as connection:
        return connection.execute(select(Robot).where(Robot.id == robot_id)).one()


def _telemetry(database):
    with database.autocommit() as connection:
        return connection.scalar(select(RobotSession.telemetry))


def _count(kind: str, outcome: str) -> float:
    return REGISTRY.get_sample_value("mc_robot_mqtt_messages_total",
                                     {"kind": kind, "outcome": outcome}) or 0.0


def _send(ingest, robot_id, kind: str, body) -> str:
    payload = body if isinstance(body, bytes) else json.dumps(body).encode()
    return ingest.handle(f"robots/{robot_id}/{kind}", payload)


def test_a_status_message_records_the_robot_like_a_heartbeat(client, ingest, database, robot):
    robot_id, (m1, _) = robot
    token_of(client, robot_id)
    before = _count("status", "ingested")

    outcome = _send(ingest, robot_id, "status", {
        "status": "RUNNING", "modules": [{"module_id": str(m1), "status": "FAILED"}],
        "telemetry": {"battery": 80, "position": {"x": 1, "y": 2, "z": 0}}})

    assert outcome == "ingested"
    row = _row(database, robot_id)
    assert row.online and row.status == "RUNNING" and row.last_online is not None
    with database.autocommit() as connection:
        assert connection.scalar(select(Module.status).where(Module.id == m1)) == "FAILED"
    assert _telemetry(database) == {"battery": 80, "position": {"x": 1, "y": 2, "z": 0}}
    assert [event for event, _ in presence.events(database, robot_id)] == ["connect"]
    assert _count("status", "ingested") == before + 1


def test_a_telemetry_message_keeps_the_status_and_counts_as_alive(client, ingest, database,
                                                                  robot):
    robot_id, _ = robot
    token_of(client, robot_id)
    assert _send(ingest, robot_id, "status", {"status": "FAILED"}) == "ingested"
    first = _row(database, robot_id).last_online

    assert _send(ingest, robot_id, "telemetry", {"cpu": 12.5, "temperature": -3}) == "ingested"

    row = _row(database, robot_id)
    assert row.status == "FAILED" and row.online and row.last_online >= first
    assert _telemetry(database) == {"cpu": 12.5, "temperature": -3}


def test_a_robot_without_an_open_session_is_not_recorded(ingest, database, robot):
    robot_id, _ = robot
    before = _count("status", "no_session")
    assert _send(ingest, robot_id, "status", {"status": "IDLE"}) == "no_session"
    assert not _row(database, robot_id).online
    assert _count("status", "no_session") == before + 1


def test_an_unknown_robot_is_ignored(ingest, database):
    assert _send(ingest, uuid.uuid4(), "status", {"status": "IDLE"}) == "unknown_robot"
    assert _send(ingest, "not-a-uuid", "telemetry", {"cpu": 1}) == "unknown_robot"
    with database.autocommit() as connection:
        assert connection.scalar(select(Robot.id)) is None


def test_closing_the_session_ends_the_robots_mqtt_presence(client, ingest, database, robot):
    robot_id, _ = robot
    token = token_of(client, robot_id)
    assert _send(ingest, robot_id, "status", {"status": "IDLE"}) == "ingested"
    assert client.delete(f"/robots/{robot_id}/session", headers=auth(token)).status_code == 204

    _send(ingest, robot_id, "status", {"status": "RUNNING"})  # a message still on its way

    row = _row(database, robot_id)
    assert not row.online and row.status == "IDLE"


@pytest.mark.parametrize("payload, outcome", [
    (b"not json", "malformed"),
    (b"\xff\xfe{}", "malformed"),
    (b'{"status": "IDLE", "status": "FAILED"}', "malformed"),
    (b"[]", "invalid"),
    (b'"IDLE"', "invalid"),
    (b"{}", "invalid"),
    (b'{"status": "ASLEEP"}', "invalid"),
    (b'{"status": "IDLE", "telemetry": {"battery": NaN}}', "invalid"),
    (b'{"status": "IDLE", "telemetry": {"temperature": Infinity}}', "invalid"),
    (b'{"status": "IDLE", "telemetry": {"battery": 1e999}}', "invalid"),
    (b'{"status": "IDLE", "telemetry": {"cpu": true}}', "invalid"),
    (b'{"status": "IDLE", "extra": 1}', "invalid"),
    (b'{"status": "IDLE", "modules": [{"module_id": "x", "status": "IDLE"}]}', "invalid"),
    (b"[" * 100_000, "malformed"),
    (b'{"status": "' + b"I" * 70_000 + b'"}', "malformed"),
])
def test_bad_status_payloads_are_dropped_and_nothing_is_written(client, ingest, database,
                                                                 robot, payload, outcome):
    robot_id, _ = robot
    token_of(client, robot_id)
    before = _count("status", outcome)
    assert _send(ingest, robot_id, "status", payload) == outcome
    assert not _row(database, robot_id).online
    assert _count("status", outcome) == before + 1


def test_a_module_of_another_robot_is_refused(client, ingest, database, robot):
    robot_id, _ = robot
    _, (foreign,) = add_robot(database, "r2", modules=1)
    token_of(client, robot_id)
    body = {"status": "IDLE", "modules": [{"module_id": str(foreign), "status": "FAILED"}]}
    assert _send(ingest, robot_id, "status", body) == "invalid"
    assert not _row(database, robot_id).online


def test_other_topics_are_dropped(ingest, robot):
    robot_id, _ = robot
    for topic in (f"robots/{robot_id}/commands", "robots/status", f"robots/{robot_id}/status/x"):
        assert ingest.handle(topic, b'{"status": "IDLE"}') == "malformed"


def test_dropped_messages_are_logged_escaped_and_short(ingest, caplog):
    topic = "robots/\x1b[31m\n" + "x" * 1000 + "/status"
    ingest.handle(topic, b"{}")
    line = caplog.records[-1].getMessage()
    assert "\n" not in line and "\x1b" not in line and len(line) < 700
    assert shown("a\u202eb") == "a\\u202eb"


class _Message:
    """What paho hands on_message: its topic property decodes the bytes as UTF-8."""

    def __init__(self, topic: bytes, payload: bytes) -> None:
        self._topic, self.payload = topic, payload

    @property
    def topic(self) -> str:
        return self._topic.decode("utf-8")


def test_the_subscriber_survives_any_message(app, robot, monkeypatch, caplog):
    subscriber = next(t for t in app.extensions["background_tasks"]
                      if getattr(t, "name", "") == "mqtt-subscriber")
    monkeypatch.setattr(subscriber.ingest, "handle",
                        lambda topic, payload: (_ for _ in ()).throw(RuntimeError("db away")))
    subscriber._message(None, None, _Message(b"robots/\xff/status", b"{}"))  # nothing escapes
    assert "not recorded" in caplog.text
