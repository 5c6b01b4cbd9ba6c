"""The telecommand REST API of ground, through Flask's test client, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from ground.app import create_app
from mission_control.catalog import CATALOG
from mission_control.db import Database
from mission_control.status import Status
from mission_control.models import Target, Telecommand, TelecommandHistory
from mission_control.settings import Settings
from mission_control.timeutil import utcnow
from mission_control.testing import assert_error, bearer, gen_command, run_together, token_for

SPACECRAFT_COMMANDS = sorted(CATALOG["spacecraft"])
HAZARDOUS = {"DEPLOY_SOLAR_ARRAY", "REBOOT"}
THREADS = 8


# --- helpers ---------------------------------------------------------------------------------

def post_command(client, name: str = "PING", *, headers: dict[str, str] | None = None,
                 **fields: Any):
    """POST /api/telecommands with ``{"command_name": name, **fields}`` as JSON."""
    return client.post("/api/telecommands", json={"command_name": name, **fields},
                       headers=headers or {})


def row_counts(database: Database) -> tuple[int, int]:
    """How many telecommands and history rows the database holds."""
    with database.transaction() as session:
        return (session.scalar(select(func.count()).select_from(Telecommand)),
                session.scalar(select(func.count()).select_from(TelecommandHistory)))


@pytest.fixture
def robot(database: Database) -> str:
    """A robot target ``robot-1`` with one module ``robot-1-arm``."""
    with database.transaction() as session:
        session.add(Target(id="robot-1", kind="robot", name="Robot 1"))
        session.flush()
        session.add(Target(id="robot-1-arm", kind="module", name="Arm", parent_id="robot-1"))
    return "robot-1"


def on_postgresql(database: Database) -> bool:
    return database.url.startswith("postgresql")


# --- POST /api/telecommands: accepted ------------------------------------------------------

def test_new_command_is_created_ready_with_id_and_location(client, database):
    response = post_command(client)

    assert response.status_code == 201
    body = response.get_json()
    assert uuid.UUID(body["id"])
    assert body["status"] == "READY"
    assert body["command_name"] == "PING"
    assert body["target"] == "spacecraft"
    assert body["module_id"] is None
    assert body["args"] == {}
    assert response.headers["Location"].endswith(f"/api/telecommands/{body['id']}")
    assert "Idempotent-Replayed" not in response.headers
    assert row_counts(database) == (1, 1)


def test_location_header_points_at_the_new_command(client):
    created = post_command(client, "SET_HEATER", args={"on": True})

    fetched = client.get(created.headers["Location"])

    assert fetched.status_code == 200
    assert fetched.get_json()["id"] == created.get_json()["id"]
    assert fetched.get_json()["args"] == {"on": True}


def signed_in(app, database, username: str, role: str = "operator"):
    """A client with the bearer token of a user ``username`` of ``role``."""
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token_for(database, username, role)}"
    return client


def test_creation_is_recorded_in_history_with_the_signed_in_user_as_actor(app, database):
    alice = signed_in(app, database, "alice")
    created = post_command(alice).get_json()

    history = alice.get(f"/api/telecommands/{created['id']}").get_json()["history"]

    assert created["operator"] == "alice"
    assert len(history) == 1
    assert history[0]["from_status"] is None
    assert history[0]["to_status"] == "READY"
    assert history[0]["actor"] == "alice"
    assert history[0]["at"].endswith("+00:00")


@pytest.mark.parametrize("claimed", ["mallory", "", "x" * 101, "a\x1bb"])
def test_an_x_operator_header_is_ignored_the_token_says_who_acts(app, database, claimed):
    alice = signed_in(app, database, "alice")
    created = post_command(alice, headers={"X-Operator": claimed})
    assert created.status_code == 201, created.get_json()

    cancelled = alice.put(f"/api/telecommands/{created.get_json()['id']}/cancel",
                          headers={"X-Operator": claimed}).get_json()

    assert created.get_json()["operator"] == "alice"
    assert [h["actor"] for h in cancelled["history"]] == ["alice", "alice"]


@pytest.mark.parametrize("name,fields,expected_args", [
    ("PING", {}, {}),
    ("SET_HEATER", {"args": {"on": False}}, {"on": False}),
    ("ADJUST_ATTITUDE", {"args": {"roll": -180, "pitch": 90, "yaw": 12.5}},
     {"roll": -180.0, "pitch": 90.0, "yaw": 12.5}),
    ("CAPTURE_IMAGE", {"args": {"exposure_ms": 250}}, {"exposure_ms": 250}),
    ("DEPLOY_SOLAR_ARRAY", {"confirm": True}, {}),
    ("REBOOT", {"confirm": True}, {}),
])
def test_every_spacecraft_catalog_command_is_accepted(client, name, fields, expected_args):
    response = post_command(client, name, **fields)

    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert (body["command_name"], body["status"], body["args"]) == (name, "READY", expected_args)
    stored = client.get(f"/api/telecommands/{body['id']}").get_json()
    assert stored["args"] == expected_args


def test_the_test_table_covers_the_whole_spacecraft_catalog():
    covered = {"PING", "SET_HEATER", "ADJUST_ATTITUDE", "CAPTURE_IMAGE", "DEPLOY_SOLAR_ARRAY",
               "REBOOT"}
    assert set(SPACECRAFT_COMMANDS) == covered


def test_attitude_args_are_normalised_to_floats(client):
    body = post_command(client, "ADJUST_ATTITUDE", args={"roll": 10, "pitch": 0, "yaw": -5}).get_json()

    assert body["args"] == {"roll": 10.0, "pitch": 0.0, "yaw": -5.0}
    assert all(isinstance(value, float) for value in body["args"].values())


def test_explicit_spacecraft_target_is_accepted(client):
    body = post_command(client, target="spacecraft").get_json()

    assert body["target"] == "spacecraft"


def test_ping_can_be_addressed_to_a_robot_module(client, robot):
    response = post_command(client, target=robot, module_id="robot-1-arm")

    assert response.status_code == 201
    body = response.get_json()
    assert (body["target"], body["module_id"]) == ("robot-1", "robot-1-arm")


def test_robot_refuses_spacecraft_commands_and_lists_its_own(client, robot, database):
    body = assert_error(post_command(client, "SET_HEATER", target=robot, args={"on": True}),
                             422, "invalid_command")

    assert body["allowed"] == ["DOCK", "MOVE_TO", "PING", "REBOOT", "SET_SPEED", "STOP"]
    assert row_counts(database) == (0, 0)


def test_robots_and_modules_take_their_own_catalogs(client, robot, database):
    move = post_command(client, "MOVE_TO", target=robot, args={"x": 1.5, "y": -2, "z": 0})
    start = post_command(client, "START", target=robot, module_id="robot-1-arm")

    assert move.status_code == 201 and move.get_json()["args"] == {"x": 1.5, "y": -2, "z": 0}
    assert start.status_code == 201 and start.get_json()["module_id"] == "robot-1-arm"
    # START is a module's command; MOVE_TO a robot's; SET_SPEED is bounded to 0..2 m/s.
    assert assert_error(post_command(client, "START", target=robot), 422,
                        "invalid_command")["allowed"] == \
        ["DOCK", "MOVE_TO", "PING", "REBOOT", "SET_SPEED", "STOP"]
    assert assert_error(post_command(client, "MOVE_TO", target=robot, module_id="robot-1-arm",
                                     args={"x": 0, "y": 0, "z": 0}), 422,
                        "invalid_command")["allowed"] == ["PING", "RESET", "START", "STOP"]
    too_fast = assert_error(post_command(client, "SET_SPEED", target=robot,
                                         args={"speed_m_s": 2.5}), 422, "invalid_command")
    assert "speed_m_s" in [f["field"] for f in too_fast["fields"]][0]
    assert assert_error(post_command(client, "REBOOT", target=robot), 422,
                        "invalid_command")["hazardous"] is True
    assert row_counts(database) == (2, 2)


def test_a_removed_target_takes_no_command_and_is_not_listed(client, robot, database):
    with database.transaction() as session:
        session.get(Target, "robot-1-arm").removed_at = utcnow()

    body = assert_error(post_command(client, "START", target=robot, module_id="robot-1-arm"),
                        422, "unknown_target")

    assert [f["field"] for f in body["fields"]] == ["module_id"]
    assert "robot-1-arm" not in {t["id"] for t in client.get("/api/targets").get_json()["items"]}
    with database.transaction() as session:
        session.get(Target, "robot-1").removed_at = utcnow()
    body = assert_error(post_command(client, target=robot), 422, "unknown_target")
    assert "removed" in body["message"] and row_counts(database) == (0, 0)


# --- POST /api/telecommands: refused ---------------------------------------------------------

def _json(body: Any, **headers: str) -> dict[str, Any]:
    return {"json": body, "headers": headers}


def _raw(data: str | bytes, content_type: str | None, **headers: str) -> dict[str, Any]:
    return {"data": data, "content_type": content_type, "headers": headers}


REFUSED = [
    pytest.param(_json({"command_name": "SELF_DESTRUCT"}), 422, "invalid_command", id="unknown-command"),
    pytest.param(_json({"command_name": "SET_HEATER", "args": {"on": "yes"}}), 422, "invalid_command",
                 id="bad-args"),
    pytest.param(_json({"command_name": "SET_HEATER"}), 422, "invalid_command", id="missing-args"),
    pytest.param(_json({"command_name": "ADJUST_ATTITUDE", "args": {"roll": 181, "pitch": 0, "yaw": 0}}),
                 422, "invalid_command", id="arg-out-of-range"),
    pytest.param(_json({"command_name": "PING", "args": {"extra": 1}}), 422, "invalid_command",
                 id="unknown-arg"),
    pytest.param(_json({"command_name": "PING", "priority": 1}), 422, "validation_error",
                 id="unknown-field"),
    pytest.param(_json({}), 422, "validation_error", id="no-command-name"),
    pytest.param(_json({"command_name": 123}), 422, "validation_error", id="command-name-not-string"),
    pytest.param(_json({"command_name": "PING", "args": [1]}), 422, "validation_error",
                 id="args-not-object"),
    pytest.param(_json({"command_name": "PING", "args": None}), 422, "validation_error",
                 id="args-null"),
    pytest.param(_json({"command_name": "PING", "target": 5}), 422, "validation_error",
                 id="target-not-string"),
    pytest.param(_json({"command_name": "REBOOT", "confirm": "maybe"}), 422, "validation_error",
                 id="confirm-not-boolean"),
    pytest.param(_json({"command_name": "REBOOT"}), 422, "invalid_command", id="hazardous-no-confirm"),
    pytest.param(_json({"command_name": "DEPLOY_SOLAR_ARRAY", "confirm": False}), 422,
                 "invalid_command", id="hazardous-confirm-false"),
    pytest.param(_json({"command_name": "PING", "target": "mars-rover"}), 422, "unknown_target",
                 id="unknown-target"),
    pytest.param(_json({"command_name": "PING", "module_id": "camera"}), 422, "unknown_target",
                 id="module-on-spacecraft"),
    pytest.param(_json([{"command_name": "PING"}]), 422, "validation_error", id="body-is-array"),
    pytest.param(_json("PING"), 422, "validation_error", id="body-is-string"),
    pytest.param(_json({"command_name": "P" * 65}), 422, "validation_error", id="command-name-too-long"),
    pytest.param(_json({"command_name": ""}), 422, "validation_error", id="command-name-empty"),
    pytest.param(_json({"command_name": "PING", "target": "t" * 65}), 422, "validation_error",
                 id="target-too-long"),
    pytest.param(_json({"command_name": "PING"}, **{"Idempotency-Key": "k" * 201}), 422,
                 "validation_error", id="idempotency-key-too-long"),
    pytest.param(_json({"command_name": "PING"}, **{"Idempotency-Key": ""}), 422,
                 "validation_error", id="idempotency-key-empty"),
    pytest.param(_raw('{"command_name": "PING"', "application/json"), 400, "malformed_json",
                 id="malformed-json"),
    pytest.param(_raw("", "application/json"), 400, "malformed_json", id="empty-json-body"),
    pytest.param(_raw(b'{"command_name": "\xff"}', "application/json"), 400, "malformed_json",
                 id="not-utf8"),
    pytest.param(_raw("[" * 50_000, "application/json"), 400, "malformed_json", id="nested-too-deeply"),
    pytest.param(_raw("command_name=PING", "application/x-www-form-urlencoded"), 415,
                 "unsupported_media_type", id="form"),
    pytest.param(_raw('{"command_name": "PING"}', "text/plain"), 415, "unsupported_media_type",
                 id="text-plain"),
    pytest.param(_raw('{"command_name": "PING"}', None), 415, "unsupported_media_type",
                 id="no-content-type"),
    pytest.param(_raw('{"command_name": "PING", "args": {"pad": "' + "x" * (64 * 1024) + '"}}',
                      "application/json"), 413, "payload_too_large", id="body-over-64KiB"),
]


@pytest.mark.parametrize("request_kwargs,status,error", REFUSED)
def test_bad_post_is_refused_with_json_error_and_writes_nothing(client, database, request_kwargs,
                                                                status, error):
    post_command(client, "SET_HEATER", args={"on": True})  # something already there
    before = row_counts(database)

    response = client.post("/api/telecommands", **request_kwargs)

    assert_error(response, status, error)
    assert row_counts(database) == before == (1, 1)


def test_body_just_under_the_limit_is_read(client):
    padding = "x" * (64 * 1024 - 100)
    response = client.post("/api/telecommands",
                           json={"command_name": "PING", "args": {"pad": padding}})

    assert_error(response, 422, "invalid_command")  # read and validated, not refused as too large


def test_unknown_command_message_lists_allowed_commands(client):
    body = assert_error(post_command(client, "SELF_DESTRUCT"), 422, "invalid_command")

    assert "SELF_DESTRUCT" in body["message"]
    assert all(name in body["message"] for name in SPACECRAFT_COMMANDS)
    assert body["allowed"] == SPACECRAFT_COMMANDS


def test_bad_args_name_the_field(client):
    body = assert_error(
        post_command(client, "ADJUST_ATTITUDE", args={"roll": 0, "pitch": -91, "yaw": 0}),
        422, "invalid_command")

    assert "pitch" in body["message"]
    assert [f["field"] for f in body["fields"]] == ["pitch"]
    assert body["args_schema"]["properties"]["pitch"]["minimum"] == -90


def test_unknown_body_field_is_named(client):
    body = assert_error(post_command(client, priority="high"), 422, "validation_error")

    assert "priority" in body["message"]
    assert [f["field"] for f in body["fields"]] == ["priority"]


def test_wrong_type_names_the_field(client):
    body = assert_error(client.post("/api/telecommands", json={"command_name": ["PING"]}),
                             422, "validation_error")

    assert [f["field"] for f in body["fields"]] == ["command_name"]


@pytest.mark.parametrize("name", sorted(HAZARDOUS))
def test_hazardous_command_without_confirm_says_to_confirm(client, database, name):
    body = assert_error(post_command(client, name), 422, "invalid_command")

    assert "confirm" in body["message"]
    assert body["hazardous"] is True
    assert row_counts(database) == (0, 0)


def test_body_that_is_a_json_array_is_refused_as_not_an_object(client):
    body = assert_error(client.post("/api/telecommands", json=[]), 422)

    assert "object" in body["message"]


def test_unknown_target_is_named(client):
    body = assert_error(post_command(client, target="mars-rover"), 422, "unknown_target")

    assert "mars-rover" in body["message"]


def test_module_of_another_robot_is_refused(client, database, robot):
    with database.transaction() as session:
        session.add(Target(id="robot-2", kind="robot", name="Robot 2"))

    body = assert_error(post_command(client, target="robot-2", module_id="robot-1-arm"),
                             422, "unknown_target")

    assert "robot-1-arm" in body["message"]


@pytest.mark.parametrize("confirm", ["yes", 1, "true"])
def test_only_json_true_confirms_a_hazardous_command(client, database, confirm):
    response = post_command(client, "DEPLOY_SOLAR_ARRAY", confirm=confirm)

    assert_error(response, 422)
    assert row_counts(database) == (0, 0)


def test_json_null_body_is_refused_as_not_an_object(client):
    body = assert_error(client.post("/api/telecommands", data="null",
                                         content_type="application/json"), 422)

    assert "object" in body["message"]


@pytest.mark.parametrize("request_kwargs", [
    pytest.param({"method": "POST", "json": {"command_name": "PING", "target": "a\u0000b"}},
                 id="target"),
    pytest.param({"method": "POST", "json": {"command_name": "PING", "module_id": "a\u0000b"}},
                 id="module"),
    pytest.param({"method": "GET", "query_string": {"target": "a\u0000b"}}, id="list-target"),
])
def test_nul_character_in_a_target_is_a_client_error(client, database, request, request_kwargs):
    response = client.open("/api/telecommands", **request_kwargs)

    assert response.status_code in {200, 422}, response.get_data(as_text=True)
    assert row_counts(database) == (0, 0)


# --- Idempotency-Key -------------------------------------------------------------------------

def test_same_idempotency_key_returns_the_first_command(client, database):
    key = {"Idempotency-Key": "retry-me"}
    first = post_command(client, "SET_HEATER", args={"on": True}, headers=key)
    second = post_command(client, "SET_HEATER", args={"on": True}, headers=key)

    assert (first.status_code, second.status_code) == (201, 201)
    assert second.get_json()["id"] == first.get_json()["id"]
    assert "Idempotent-Replayed" not in first.headers
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.headers["Location"] == first.headers["Location"]
    assert row_counts(database) == (1, 1)


def test_replay_returns_the_command_as_it_is_now(client, database):
    key = {"Idempotency-Key": "retry-after-cancel"}
    first = post_command(client, headers=key).get_json()
    client.put(f"/api/telecommands/{first['id']}/cancel")

    replay = post_command(client, headers=key)

    assert replay.status_code == 201
    assert replay.get_json()["id"] == first["id"]
    assert replay.get_json()["status"] == "CANCELLED"
    assert row_counts(database) == (1, 2)


@pytest.mark.parametrize("second", [
    pytest.param({"name": "REBOOT", "confirm": True}, id="other-command"),
    pytest.param({"name": "PING", "target": "robot-1"}, id="other-target"),
    pytest.param({"name": "PING", "target": "robot-1", "module_id": "robot-1-arm"}, id="other-module"),
])
def test_same_idempotency_key_for_a_different_command_conflicts(client, database, robot, second):
    key = {"Idempotency-Key": "one-key"}
    post_command(client, "PING", headers=key)
    if second.get("module_id"):
        post_command(client, "PING", target="robot-1", headers={"Idempotency-Key": "other-key"})
    before = row_counts(database)

    response = post_command(client, headers=key, **second)

    body = assert_error(response, 409, "idempotency_key_reused")
    assert "Idempotency-Key" in body["message"]
    assert row_counts(database) == before


def test_same_idempotency_key_with_different_args_conflicts(client, database):
    key = {"Idempotency-Key": "heater"}
    post_command(client, "SET_HEATER", args={"on": True}, headers=key)

    response = post_command(client, "SET_HEATER", args={"on": False}, headers=key)

    assert_error(response, 409, "idempotency_key_reused")
    assert row_counts(database) == (1, 1)


def test_different_idempotency_keys_create_different_commands(client, database):
    first = post_command(client, headers={"Idempotency-Key": "a"}).get_json()
    second = post_command(client, headers={"Idempotency-Key": "b"}).get_json()

    assert first["id"] != second["id"]
    assert row_counts(database) == (2, 2)


def test_idempotency_key_of_200_characters_is_accepted(client):
    key = {"Idempotency-Key": "k" * 200}
    first = post_command(client, headers=key)
    second = post_command(client, headers=key)

    assert (first.status_code, second.status_code) == (201, 201)
    assert first.get_json()["id"] == second.get_json()["id"]


def test_concurrent_posts_with_one_idempotency_key_create_one_command(app, database):
    key = {"Idempotency-Key": "storm"}
    racer = bearer(token_for(database, "racer"))

    def post(_index: int):
        response = post_command(app.test_client(), "CAPTURE_IMAGE", args={"exposure_ms": 10},
                                headers={**key, **racer})
        return response.status_code, response.get_json(), response.headers.get("Idempotent-Replayed")

    results = run_together(post)

    assert [status for status, _, _ in results] == [201] * THREADS, results
    assert len({body["id"] for _, body, _ in results}) == 1
    assert sorted(str(replayed) for _, _, replayed in results) == ["None"] + ["true"] * (THREADS - 1)
    assert row_counts(database) == (1, 1)


# --- GET /api/telecommands -------------------------------------------------------------------

def test_list_is_newest_first(client):
    ids = [post_command(client).get_json()["id"] for _ in range(3)]

    body = client.get("/api/telecommands").get_json()

    assert [item["id"] for item in body["items"]] == ids[::-1]
    assert (body["total"], body["limit"], body["offset"]) == (3, 50, 0)
    assert "history" not in body["items"][0]


def test_list_of_an_empty_database_is_empty(client):
    response = client.get("/api/telecommands")

    assert response.status_code == 200
    assert response.get_json() == {"items": [], "total": 0, "limit": 50, "offset": 0}


def test_list_filters_by_status(client, database):
    ready = gen_command(database)
    transmitted = {gen_command(database, status=Status.TRANSMITTED) for _ in range(2)}
    gen_command(database, status=Status.FAILED)

    body = client.get("/api/telecommands?status=TRANSMITTED").get_json()

    assert {item["id"] for item in body["items"]} == {str(i) for i in transmitted}
    assert body["total"] == 2
    assert {item["status"] for item in body["items"]} == {"TRANSMITTED"}
    only_ready = client.get("/api/telecommands", query_string={"status": "READY"}).get_json()
    assert [item["id"] for item in only_ready["items"]] == [str(ready)]


def test_list_filters_by_target(client, robot):
    to_robot = post_command(client, target=robot).get_json()["id"]
    to_spacecraft = {post_command(client).get_json()["id"] for _ in range(2)}

    robot_page = client.get("/api/telecommands?target=robot-1").get_json()
    spacecraft_page = client.get("/api/telecommands?target=spacecraft").get_json()
    nobody_page = client.get("/api/telecommands?target=nobody").get_json()

    assert ([item["id"] for item in robot_page["items"]], robot_page["total"]) == ([to_robot], 1)
    assert {item["id"] for item in spacecraft_page["items"]} == to_spacecraft
    assert spacecraft_page["total"] == 2
    assert (nobody_page["items"], nobody_page["total"]) == ([], 0)


def test_list_combines_status_and_target_filters(client, database, robot):
    post_command(client, target=robot)
    cancelled = post_command(client, target=robot).get_json()["id"]
    client.put(f"/api/telecommands/{cancelled}/cancel")
    post_command(client)

    body = client.get("/api/telecommands?status=CANCELLED&target=robot-1").get_json()

    assert ([item["id"] for item in body["items"]], body["total"]) == ([cancelled], 1)


def test_list_paginates_with_limit_and_offset(client):
    ids = [post_command(client).get_json()["id"] for _ in range(5)][::-1]

    pages = [client.get(f"/api/telecommands?limit=2&offset={offset}").get_json()
             for offset in (0, 2, 4, 6)]

    assert [[item["id"] for item in page["items"]] for page in pages] == \
        [ids[0:2], ids[2:4], ids[4:5], []]
    assert {page["total"] for page in pages} == {5}
    assert [(page["limit"], page["offset"]) for page in pages] == [(2, 0), (2, 2), (2, 4), (2, 6)]


def test_list_accepts_the_largest_limit(client):
    post_command(client)

    body = client.get("/api/telecommands?limit=500").get_json()

    assert (body["limit"], body["total"], len(body["items"])) == (500, 1, 1)


@pytest.mark.parametrize("query,field", [
    ("status=DONE", "status"),
    ("status=ready", "status"),
    ("limit=0", "limit"),
    ("limit=501", "limit"),
    ("offset=-1", "offset"),
    ("limit=abc", "limit"),
    ("offset=1.5", "offset"),
    ("sort=created_at", "sort"),
    ("target=" + "t" * 65, "target"),
])
def test_bad_list_query_is_refused_naming_the_parameter(client, query, field):
    body = assert_error(client.get(f"/api/telecommands?{query}"), 422, "validation_error")

    assert field in body["message"]
    assert [f["field"] for f in body["fields"]] == [field]


# --- GET /api/telecommands/{id} --------------------------------------------------------------

def test_one_command_is_returned_with_status_and_history(app, database):
    client = signed_in(app, database, "carol")
    created = post_command(client, "CAPTURE_IMAGE", args={"exposure_ms": 100}).get_json()

    response = client.get(f"/api/telecommands/{created['id']}")

    assert response.status_code == 200
    body = response.get_json()
    assert {k: v for k, v in body.items() if k != "history"} == \
        {**created, "progress": None, "silent": False, "max_silence_s": None}
    assert [(h["from_status"], h["to_status"], h["actor"]) for h in body["history"]] == \
        [(None, "READY", "carol")]


def test_history_lists_every_transition_in_order(app, database):
    client = signed_in(app, database, "dave")
    command_id = gen_command(database)
    client.put(f"/api/telecommands/{command_id}/cancel")

    history = client.get(f"/api/telecommands/{command_id}").get_json()["history"]

    assert [(h["from_status"], h["to_status"], h["actor"]) for h in history] == \
        [(None, "READY", "tester"), ("READY", "CANCELLED", "dave")]
    assert history[0]["at"] <= history[1]["at"]


def test_unknown_command_id_is_404(client):
    unknown = uuid.uuid4()
    body = assert_error(client.get(f"/api/telecommands/{unknown}"), 404, "not_found")

    assert str(unknown) in body["message"]


@pytest.mark.parametrize("command_id", ["xyz", "123", "not-a-uuid-at-all", "%20"])
def test_malformed_command_id_is_404(client, command_id):
    assert_error(client.get(f"/api/telecommands/{command_id}"), 404, "not_found")


# --- PUT /api/telecommands/{id}/cancel -------------------------------------------------------

def test_cancel_of_a_ready_command_records_who_cancelled(client, app, database):
    created = post_command(client).get_json()

    response = signed_in(app, database, "erin").put(f"/api/telecommands/{created['id']}/cancel")

    assert response.status_code == 200
    body = response.get_json()
    assert (body["id"], body["status"], body["transmit_at"]) == (created["id"], "CANCELLED", None)
    assert "erin" in body["status_reason"]
    last = body["history"][-1]
    assert (last["from_status"], last["to_status"], last["actor"]) == ("READY", "CANCELLED", "erin")
    assert client.get(f"/api/telecommands/{created['id']}").get_json()["status"] == "CANCELLED"
    assert row_counts(database) == (1, 2)


def test_cancel_by_the_fixture_user_is_recorded_as_that_user(client):
    created = post_command(client).get_json()

    body = client.put(f"/api/telecommands/{created['id']}/cancel").get_json()

    assert body["history"][-1]["actor"] == "operator"


def test_second_cancel_is_refused_with_the_current_status(client, database):
    created = post_command(client).get_json()
    client.put(f"/api/telecommands/{created['id']}/cancel")

    body = assert_error(client.put(f"/api/telecommands/{created['id']}/cancel"),
                             409, "not_cancellable")

    assert body["status"] == "CANCELLED"
    assert "CANCELLED" in body["message"]
    assert row_counts(database) == (1, 2)


@pytest.mark.parametrize("status", [Status.TRANSMITTED, Status.ACKNOWLEDGED, Status.EXECUTED,
                                    Status.FAILED])
def test_cancel_after_ready_is_refused_naming_the_status(client, database, status):
    command_id = gen_command(database, status=status)

    body = assert_error(client.put(f"/api/telecommands/{command_id}/cancel"),
                             409, "not_cancellable")

    assert body["status"] == status.value
    assert status.value in body["message"]
    after = client.get(f"/api/telecommands/{command_id}").get_json()
    assert (after["status"], len(after["history"])) == (status.value, 1)


def test_cancel_of_unknown_command_is_404(client, database):
    assert_error(client.put(f"/api/telecommands/{uuid.uuid4()}/cancel"), 404, "not_found")
    assert row_counts(database) == (0, 0)


@pytest.mark.parametrize("command_id", ["xyz", "123"])
def test_cancel_of_malformed_id_is_404(client, command_id):
    assert_error(client.put(f"/api/telecommands/{command_id}/cancel"), 404, "not_found")


def test_racing_cancels_have_exactly_one_winner(app, database):
    command_id = gen_command(database)

    tokens = [bearer(token_for(database, f"op-{index}")) for index in range(THREADS)]

    def cancel(index: int) -> int:
        return app.test_client().put(f"/api/telecommands/{command_id}/cancel",
                                     headers=tokens[index]).status_code

    statuses = run_together(cancel)

    assert sorted(statuses) == [200] + [409] * (THREADS - 1)
    assert row_counts(database) == (1, 2)


# --- routing errors --------------------------------------------------------------------------

@pytest.mark.parametrize("method,path", [
    ("DELETE", "/api/telecommands"),
    ("PATCH", "/api/telecommands"),
    ("POST", "/api/telecommands/00000000-0000-0000-0000-000000000000"),
    ("DELETE", "/api/telecommands/00000000-0000-0000-0000-000000000000"),
    ("GET", "/api/telecommands/00000000-0000-0000-0000-000000000000/cancel"),
    ("POST", "/api/telecommands/00000000-0000-0000-0000-000000000000/cancel"),
    ("POST", "/api/catalog"),
])
def test_wrong_method_is_405_in_json(client, database, method, path):
    assert_error(client.open(path, method=method, json={"command_name": "PING"}),
                      405, "method_not_allowed")
    assert row_counts(database) == (0, 0)


def test_unknown_api_path_is_404_in_json(client):
    assert_error(client.get("/api/telecommand"), 404, "not_found")


# --- catalog and targets ---------------------------------------------------------------------

def test_catalog_lists_spacecraft_commands_with_hazards_and_arg_schemas(client):
    response = client.get("/api/catalog")

    assert response.status_code == 200
    commands = {c["name"]: c for c in response.get_json()["spacecraft"]}
    assert sorted(commands) == SPACECRAFT_COMMANDS
    assert {name for name, c in commands.items() if c["hazardous"]} == HAZARDOUS
    assert all(c["description"] for c in commands.values())
    heater = commands["SET_HEATER"]["args_schema"]
    assert heater["properties"]["on"]["type"] == "boolean" and heater["required"] == ["on"]
    attitude = commands["ADJUST_ATTITUDE"]["args_schema"]
    assert sorted(attitude["required"]) == ["pitch", "roll", "yaw"]
    assert (attitude["properties"]["roll"]["minimum"], attitude["properties"]["roll"]["maximum"]) == \
        (-180, 180)
    assert commands["PING"]["args_schema"].get("properties", {}) == {}


def test_catalog_lists_robot_and_module_commands(client):
    catalog = client.get("/api/catalog").get_json()

    assert {kind: sorted(c["name"] for c in commands) for kind, commands in catalog.items()
            if kind != "spacecraft"} == {
        "robot": ["DOCK", "MOVE_TO", "PING", "REBOOT", "SET_SPEED", "STOP"],
        "module": ["PING", "RESET", "START", "STOP"]}
    robot = {c["name"]: c for c in catalog["robot"]}
    assert robot["REBOOT"]["hazardous"] and not robot["MOVE_TO"]["hazardous"]
    move = robot["MOVE_TO"]["args_schema"]
    assert sorted(move["required"]) == ["x", "y", "z"]
    assert (move["properties"]["z"]["minimum"], move["properties"]["z"]["maximum"]) == (-100, 100)
    speed = robot["SET_SPEED"]["args_schema"]["properties"]["speed_m_s"]
    assert (speed["minimum"], speed["maximum"]) == (0, 2)


def test_targets_include_the_spacecraft(client):
    response = client.get("/api/targets")

    assert response.status_code == 200
    items = response.get_json()["items"]
    spacecraft = next(t for t in items if t["id"] == "spacecraft")
    assert (spacecraft["kind"], spacecraft["parent_id"]) == ("spacecraft", None)
    assert spacecraft["name"]


def test_targets_include_robots_and_their_modules(client, robot):
    items = {t["id"]: t for t in client.get("/api/targets").get_json()["items"]}

    assert set(items) == {"spacecraft", "robot-1", "robot-1-arm"}
    assert (items["robot-1-arm"]["kind"], items["robot-1-arm"]["parent_id"]) == ("module", "robot-1")


# --- health ----------------------------------------------------------------------------------

def test_health_reports_the_database_ok(client):
    response = client.get("/health")

    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "service": "ground", "database": "ok"}


@pytest.fixture
def unreachable_app():
    database = Database("postgresql+psycopg2://postgres@127.0.0.1:1/none")
    yield create_app(Settings(database_url=database.url), database=database)
    database.dispose()


def test_health_is_503_in_json_when_the_database_is_unreachable(unreachable_app):
    body = assert_error(unreachable_app.test_client().get("/health"), 503, "unavailable")

    assert (body["service"], body["database"]) == ("ground", "unreachable")


def test_api_answers_json_not_html_when_the_database_is_unreachable(unreachable_app):
    client = unreachable_app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = "Bearer mc_" + "x" * 43  # checking it needs the database

    for response in (client.get("/api/telecommands"), post_command(client)):
        assert response.status_code == 503
        assert_error(response, response.status_code)


# --- OpenAPI and Swagger UI ------------------------------------------------------------------

def _api_routes(app) -> dict[str, set[str]]:
    """Every /api rule of the app as an OpenAPI path, with its methods."""
    routes: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/"):
            path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
            routes.setdefault(path, set()).update(
                m.lower() for m in rule.methods - {"HEAD", "OPTIONS"})
    return routes


def _refs(node: Any):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _resolve(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = document
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


@pytest.fixture
def openapi(client) -> dict[str, Any]:
    response = client.get("/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    return response.get_json()


def test_openapi_is_version_3_1(openapi):
    assert re.fullmatch(r"3\.1\.\d+", openapi["openapi"])
    assert openapi["info"]["title"] and openapi["info"]["version"]


def test_openapi_documents_every_api_route_and_method(app, openapi):
    routes = _api_routes(app)

    assert routes  # the app has API routes at all
    for path, methods in routes.items():
        assert path in openapi["paths"], path
        assert set(openapi["paths"][path]) >= methods, path
    assert "/health" in openapi["paths"]


@pytest.mark.parametrize("path,method,codes", [
    ("/api/telecommands", "post", {"201", "400", "409", "413", "415", "422"}),
    ("/api/telecommands", "get", {"200", "422"}),
    ("/api/telecommands/{command_id}", "get", {"200", "404"}),
    ("/api/telecommands/{command_id}/cancel", "put", {"200", "404", "409"}),
])
def test_openapi_documents_the_error_responses(openapi, path, method, codes):
    responses = openapi["paths"][path][method]["responses"]

    assert set(responses) >= codes
    for code in codes - {"200", "201"}:
        schema = responses[code]["content"]["application/json"]["schema"]
        assert _resolve(openapi, schema["$ref"])["required"] == ["error", "message"]


def test_every_openapi_ref_resolves_inside_the_document(openapi):
    refs = set(_refs(openapi))

    assert "#/components/schemas/TelecommandOut" in refs
    for ref in refs:
        assert isinstance(_resolve(openapi, ref), dict), ref


def test_openapi_response_schema_matches_a_real_response(client, openapi):
    created = post_command(client).get_json()
    one = client.get(f"/api/telecommands/{created['id']}").get_json()
    schemas = openapi["components"]["schemas"]

    out = schemas["TelecommandOut"]
    assert set(out["required"]) <= set(created) <= set(out["properties"])
    assert set(one) <= set(out["properties"])
    entry = schemas["HistoryEntry"]
    assert set(entry["required"]) <= set(one["history"][0]) <= set(entry["properties"])
    page = client.get("/api/telecommands").get_json()
    assert set(schemas["TelecommandPage"]["required"]) == set(page)


def test_openapi_request_schema_forbids_unknown_fields(openapi):
    variants = [_resolve(openapi, v["$ref"])
                for v in openapi["components"]["schemas"]["NewTelecommand"]["oneOf"]]

    assert {v["properties"]["command_name"]["const"] for v in variants} >= {"PING", "REBOOT"}
    for schema in variants:
        assert schema["required"][0] == "command_name"
        assert schema["additionalProperties"] is False


def test_docs_page_uses_only_local_assets_that_are_served(client):
    page = client.get("/docs")

    assert page.status_code == 200 and page.mimetype == "text/html"
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.get_data(as_text=True))
    assert assets and all(a.startswith("/docs/static/") for a in assets), assets
    for asset in assets:
        response = client.get(asset)
        try:
            assert response.status_code == 200, asset
            assert response.get_data(), asset
        finally:
            response.close()


def test_docs_script_loads_this_services_openapi_document(client):
    script = client.get("/docs/static/init.js")

    assert script.status_code == 200
    assert "/openapi.json" in script.get_data(as_text=True)


def test_missing_docs_asset_is_404(client):
    assert client.get("/docs/static/no-such-file.js").status_code == 404


def test_workers_are_listed_as_running_stopped_or_lost(client, database):
    from datetime import timedelta

    from mission_control.models import Worker
    from mission_control.timeutil import utcnow

    now = utcnow()
    with database.transaction() as session:
        session.add_all([
            Worker(id="w-running", started_at=now, heartbeat_at=now),
            Worker(id="w-stopped", started_at=now, heartbeat_at=now, stopped_at=now),
            Worker(id="w-lost", started_at=now - timedelta(hours=1),
                   heartbeat_at=now - timedelta(minutes=10)),
        ])
    response = client.get("/api/workers")
    assert response.status_code == 200
    body = response.get_json()
    assert {w["id"]: w["state"] for w in body["items"]} == {
        "w-running": "running", "w-stopped": "stopped", "w-lost": "lost"}
    assert body["running"] == 1


def test_a_confirmed_hazardous_command_names_who_confirmed_it(app, database):
    alice = signed_in(app, database, "alice")

    hazardous = post_command(alice, "REBOOT", confirm=True).get_json()
    plain = post_command(alice, "PING").get_json()

    assert (hazardous["operator"], hazardous["confirmed_by"]) == ("alice", "alice")
    assert plain["confirmed_by"] is None
    with database.transaction() as session:
        assert session.get(Telecommand, uuid.UUID(hazardous["id"])).confirmed_by == "alice"
