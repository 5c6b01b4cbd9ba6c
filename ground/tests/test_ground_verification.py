"""Verification from telemetry as ground shows it: the catalog's verifier, a command's
``verification`` in its JSON, and the detail page's Verification section."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import update

from mission_control.models import Telecommand
from mission_control.status import Status
from mission_control.testing import gen_command
from mission_control.timeutil import utcnow


def post(client, name: str, **args) -> dict:
    response = client.post("/api/telecommands", json={"command_name": name, "args": args})
    assert response.status_code == 201, response.text
    return response.json


def settle(database, command_id: uuid.UUID, status: Status, value: float | None,
           reason: str) -> None:
    """Leave the command as the worker would after its verdict."""
    now = utcnow()
    with database.transaction() as session:
        session.execute(update(Telecommand).where(Telecommand.id == command_id).values(
            status=status.value, status_reason=reason, verifying_since=now - timedelta(seconds=2),
            verified_value=value, verified_at=now - timedelta(seconds=1) if value is not None
            else None))


def test_the_catalog_names_set_heaters_verifier(client):
    spacecraft = {c["name"]: c for c in client.get("/api/catalog").json["spacecraft"]}
    assert spacecraft["SET_HEATER"]["verifier"] == {
        "parameter": "heater", "comparison": "==", "value": None, "value_from": "on",
        "within_s": 10}
    assert spacecraft["PING"]["verifier"] is None


def test_a_new_command_with_a_verifier_shows_it_pending(client):
    created = post(client, "SET_HEATER", on=True)
    assert created["verification"] == {
        "source": "spacecraft", "parameter": "heater", "comparison": "==", "value": 1.0,
        "condition": "heater == 1", "within_s": 10, "state": "pending", "value_seen": None,
        "seen_at": None}
    off = client.get(f"/api/telecommands/{post(client, 'SET_HEATER', on=False)['id']}").json
    assert off["verification"]["condition"] == "heater == 0"


def test_a_command_without_a_verifier_has_none(client):
    command = post(client, "PING")
    assert command["verification"] is None
    assert client.get(f"/api/telecommands/{command['id']}").json["verification"] is None


def test_a_verified_command_shows_the_value_seen_in_json_and_on_its_page(client, database):
    command_id = uuid.UUID(post(client, "SET_HEATER", on=True)["id"])
    settle(database, command_id, Status.EXECUTED, 1.0, "verified: heater=1.0 at ...")
    verification = client.get(f"/api/telecommands/{command_id}").json["verification"]
    assert verification["state"] == "verified" and verification["value_seen"] == 1.0
    assert verification["seen_at"] is not None
    html = client.get(f"/telecommands/{command_id}").text
    assert 'data-verification-state="verified"' in html and "heater == 1" in html
    assert 'data-role="verification-value">1.0<' in html


def test_a_command_not_verified_shows_the_last_value_and_the_reason(client, database):
    command_id = uuid.UUID(post(client, "SET_HEATER", on=True)["id"])
    reason = "not verified: heater == 1 not seen within 10 s (last value 0.0)"
    settle(database, command_id, Status.FAILED, 0.0, reason)
    command = client.get(f"/api/telecommands/{command_id}").json
    assert command["verification"]["state"] == "not_verified"
    assert command["verification"]["value_seen"] == 0.0 and command["status_reason"] == reason
    html = client.get(f"/telecommands/{command_id}").text
    assert 'data-verification-state="not_verified"' in html and reason in html


def test_arguments_no_target_accepts_do_not_break_the_view(client, database):
    command_id = gen_command(database, command_name="SET_HEATER", args={"on": "maybe"})
    verification = client.get(f"/api/telecommands/{command_id}").json["verification"]
    assert verification["value"] is None and verification["condition"] is None
    assert client.get(f"/telecommands/{command_id}").status_code == 200


def test_the_openapi_document_describes_verification(client):
    schemas = client.get("/openapi.json").json["components"]["schemas"]
    assert "verification" in schemas["TelecommandOut"]["properties"]
    assert "VerificationOut" in schemas
