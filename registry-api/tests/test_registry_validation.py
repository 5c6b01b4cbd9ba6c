"""Bad input is answered 400/413/415/422 with a message per field, never a 500."""

from __future__ import annotations

import pytest

from mission_control.testing import assert_error

PREFIX = "/api/v1"


def fields_of(response) -> set[str]:
    return {f["field"] for f in assert_error(response, 422, "validation_error")["fields"]}


@pytest.mark.parametrize("field, value", [
    ("owner_email", "not-an-email"),
    ("owner_email", "a@" + "b" * 250 + ".com"),
    ("ip_address", "300.1.1.1"),
    ("ip_address", "fe80::1%eth0"),
    ("ip_address", 167772161),
    ("port", 0),
    ("port", 65536),
    ("port", "80"),
    ("port", 80.5),
    ("port", True),
    ("status", "idle"),
    ("status", "BROKEN"),
    ("name", ""),
    ("name", "x" * 101),
    ("name", "tab\there"),
    ("name", "nul\x00"),
    ("name", "\ud800"),
    ("owner", 42),
    ("network_ssid", "s" * 33),
    ("password", ""),
    ("password", "p" * 129),
    ("last_online", "2026-11-23T10:00:00"),
    ("last_online", "yesterday"),
    ("last_online", 1700000000),
    ("last_online", "9999-12-31T23:59:59-05:00"),
    ("level_id", "not-a-uuid"),
    ("colour", "red"),
])
def test_invalid_robot_fields_are_422_naming_the_field(client, field, value):
    body = {"name": "r", "owner": "Ada", "owner_email": "ada@example.com", field: value}
    assert field in fields_of(client.post(f"{PREFIX}/robots", json=body))


def test_every_wrong_field_gets_its_own_message(client):
    response = client.post(f"{PREFIX}/robots", json={"name": "", "owner_email": "x", "port": 0})
    assert fields_of(response) == {"name", "owner", "owner_email", "port"}


@pytest.mark.parametrize("value", [float("inf"), float("nan")])
def test_non_finite_coordinates_are_422(client, registry, value):
    level = registry.level()
    raw = '{"level_id": "%s", "name": "a", "asset_type": "t", "position": {"x": %s, "y": 0, "z": 0}}'
    response = client.post(f"{PREFIX}/fixed-assets", data=raw % (level["id"], "Infinity" if value
                                                                  == float("inf") else "NaN"),
                           content_type="application/json")
    assert "position.x" in fields_of(response)


def test_valid_addresses_are_stored_in_canonical_form(registry):
    robot = registry.robot(ip_address="2001:DB8:0:0::1", port=65535,
                           last_online="2026-11-23T12:00:00+02:00")
    assert robot["ip_address"] == "2001:db8::1"
    assert robot["last_online"] == "2026-11-23T10:00:00+00:00"


def test_malformed_json_is_400(client):
    response = client.post(f"{PREFIX}/workspaces", data="{nope", content_type="application/json")
    assert_error(response, 400, "malformed_json")


def test_deeply_nested_json_is_400(client):
    response = client.post(f"{PREFIX}/workspaces", data="[" * 100_000 + "]" * 100_000,
                           content_type="application/json")
    assert_error(response, response.status_code)
    assert response.status_code in (400, 413)


def test_a_body_that_is_not_an_object_is_422(client):
    assert_error(client.post(f"{PREFIX}/workspaces", json=["name"]), 422)


@pytest.mark.parametrize("method", ["post", "patch"])
def test_wrong_content_type_is_415(client, registry, method):
    url = f"{PREFIX}/workspaces" + (f"/{registry.workspace()['id']}" if method == "patch" else "")
    response = getattr(client, method)(url, data="name=x",
                                       content_type="application/x-www-form-urlencoded")
    assert_error(response, 415, "unsupported_media_type")


def test_oversized_body_is_413(client):
    response = client.post(f"{PREFIX}/workspaces",
                           json={"name": "w", "description": "x" * 70_000})
    assert_error(response, 413, "payload_too_large")


def test_unknown_field_in_patch_is_422(client, registry):
    workspace = registry.workspace()
    assert "owner" in fields_of(client.patch(f"{PREFIX}/workspaces/{workspace['id']}",
                                             json={"owner": "x"}))


def test_long_description_is_422(client):
    assert "description" in fields_of(client.post(f"{PREFIX}/workspaces", json={
        "name": "w", "description": "d" * 2001}))


def test_unknown_route_and_method_answer_json(client):
    assert_error(client.get(f"{PREFIX}/spaceships"), 404)
    refused = client.put(f"{PREFIX}/workspaces")
    assert_error(refused, 405)
    assert {"GET", "POST"} <= {m.strip() for m in refused.headers["Allow"].split(",")}
