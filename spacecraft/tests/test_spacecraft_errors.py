"""Bad input always gets a JSON error with the right status code, never a 500 or HTML."""

from __future__ import annotations

import pytest

from mission_control.testing import assert_error


def test_malformed_json_is_refused(client):
    response = client.post("/commands", data='{"id": ', content_type="application/json")
    assert assert_error(response, 400)["error"] == "malformed_json"


def test_absurdly_nested_json_is_refused(client):
    body = "[" * 20_000 + "]" * 20_000
    assert_error(client.post("/commands", data=body, content_type="application/json"), 400)


def test_other_content_type_is_refused(client):
    response = client.post("/commands", data="id=1",
                           content_type="application/x-www-form-urlencoded")
    assert_error(response, 415)


def test_oversized_body_is_refused(make_app, command):
    client = make_app(max_body_bytes=1024).test_client()
    body = command("PING", padding="x" * 2048)
    assert_error(client.post("/commands", json=body), 413)


@pytest.mark.parametrize("command_id", ["no-such-command", "x" * 65, "bad%00id"])
def test_unknown_command_id_is_not_found(client, command_id):
    assert_error(client.get(f"/commands/{command_id}"), 404)


@pytest.mark.parametrize("change", [
    {"id": None},
    {"id": ""},
    {"id": "x" * 65},
    {"id": 42},
    {"id": "bad\x00id"},
    {"module_id": "bad\nmodule"},
    {"command_name": 7},
    {"args": []},
])
def test_bad_fields_are_refused(client, command, change):
    answer = assert_error(client.post("/commands", json={**command("PING"), **change}), 422)
    assert answer["fields"]


@pytest.mark.parametrize("body", [[], "PING", 3])
def test_body_that_is_not_an_object_is_refused(client, body):
    assert_error(client.post("/commands", json=body), 422)


def test_missing_fields_are_refused(client):
    answer = assert_error(client.post("/commands", json={}), 422)
    assert {field["field"] for field in answer["fields"]} == {"id", "command_name"}


@pytest.mark.parametrize("name, args", [
    ("SELF_DESTRUCT", {}),
    ("SET_HEATER", {}),
    ("SET_HEATER", {"on": "yes"}),
    ("ADJUST_ATTITUDE", {"roll": 400, "pitch": 0, "yaw": 0}),
    ("CAPTURE_IMAGE", {"exposure_ms": 0}),
    ("PING", {"unexpected": 1}),
])
def test_command_outside_the_catalog_is_refused(client, command, name, args):
    body = command(name, args)
    answer = assert_error(client.post("/commands", json=body), 422)
    assert answer["error"] == "invalid_command"
    assert_error(client.get(f"/commands/{body['id']}"), 404)


@pytest.mark.parametrize("confirmed_by", ["absent", None])
def test_hazardous_command_without_confirmed_by_is_refused(client, command, confirmed_by):
    body = command("REBOOT", confirmed_by=confirmed_by)
    if confirmed_by == "absent":
        del body["confirmed_by"]
    answer = assert_error(client.post("/commands", json=body), 422, "invalid_command")
    assert answer["fields"] == [{"field": "confirmed_by",
                                 "message": "required for a hazardous command"}]
    assert "confirmed_by" in answer["message"]
    assert_error(client.get(f"/commands/{body['id']}"), 404)


@pytest.mark.parametrize("confirmed_by", ["", "a\x00b", "\ud800", "x" * 65, 7, True])
def test_confirmed_by_must_be_a_plain_username(client, command, confirmed_by):
    body = command("REBOOT", confirmed_by=confirmed_by)
    answer = assert_error(client.post("/commands", json=body), 422, "validation_error")
    assert [f["field"] for f in answer["fields"]] == ["confirmed_by"]


def test_wrong_method_is_a_json_error(client):
    assert_error(client.delete("/commands"), 405)
