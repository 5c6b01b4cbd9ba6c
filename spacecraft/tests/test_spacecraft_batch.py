"""The uplink's batch forms: POST /commands {"commands": [...]} and POST /commands/query."""

from __future__ import annotations

import io
import json

import pytest
from sqlalchemy import func, select

from mission_control.models import UplinkedCommand
from mission_control.testing import assert_error


def stored_count(database) -> int:
    with database.transaction() as session:
        return session.scalar(select(func.count()).select_from(UplinkedCommand))


def receive_batch(client, bodies: list[dict]) -> list[dict]:
    response = client.post("/commands", json={"commands": bodies})
    assert response.status_code == 202, response.get_data(as_text=True)
    return response.get_json()["acknowledgements"]


def test_batch_is_acknowledged_per_command_in_request_order(client, command):
    bodies = [command("PING"), command("SET_HEATER", {"on": True}), command("REBOOT")]
    answers = receive_batch(client, bodies)

    assert [answer["id"] for answer in answers] == [body["id"] for body in bodies]
    for answer in answers:
        assert set(answer) == {"id", "state", "executions", "received_at", "acknowledged"}
        assert (answer["state"], answer["executions"], answer["acknowledged"]) == \
            ("RECEIVED", 0, True)


def test_resent_batch_counts_receipts_and_never_executes_twice(client, command, run_executor):
    bodies = [command("CAPTURE_IMAGE", {"exposure_ms": n + 1}) for n in range(20)]
    first = receive_batch(client, bodies)
    assert run_executor() == 20
    again = receive_batch(client, bodies)
    assert run_executor() == 0

    for before, after in zip(first, again):
        assert after == {**before, "state": "EXECUTED", "executions": 1}
    reports = client.post("/commands/query", json={"ids": [b["id"] for b in bodies]}).get_json()
    assert {(r["receipts"], r["executions"]) for r in reports["commands"]} == {(2, 1)}
    assert client.get("/state").get_json()["images_captured"] == 20


def test_single_form_resends_a_batched_command(client, command):
    body = command("PING")
    receive_batch(client, [body])
    assert client.post("/commands", json=body).status_code == 202
    assert client.get(f"/commands/{body['id']}").get_json()["receipts"] == 2


def test_catalog_refusal_in_a_batch_stores_the_others(client, command, database):
    good, bad, also_good = command("PING"), command("SELF_DESTRUCT"), command("REBOOT")
    answers = receive_batch(client, [good, bad, also_good])

    assert answers[0]["acknowledged"] is True and answers[2]["acknowledged"] is True
    refusal = answers[1]
    assert set(refusal) == {"id", "acknowledged", "error", "message"}
    assert (refusal["id"], refusal["acknowledged"], refusal["error"]) == \
        (bad["id"], False, "invalid_command")
    assert "SELF_DESTRUCT" in refusal["message"]
    assert stored_count(database) == 2
    assert_error(client.get(f"/commands/{bad['id']}"), 404)


def test_bad_arguments_are_refused_per_command(client, command):
    answers = receive_batch(client, [command("SET_HEATER", {"on": "yes"}), command("PING")])
    assert [answer["acknowledged"] for answer in answers] == [False, True]
    assert "on" in answers[0]["message"]


ENVELOPES = {
    "not a list": {"commands": {"id": "a"}},
    "empty": {"commands": []},
    "item not an object": {"commands": [{"id": "a", "command_name": "PING"}, "PING"]},
    "item without an id": {"commands": [{"id": "a", "command_name": "PING"},
                                        {"command_name": "PING"}]},
    "item with a bad id": {"commands": [{"id": "a", "command_name": "PING"},
                                        {"id": "b\x00", "command_name": "PING"}]},
    "item with a bad field": {"commands": [{"id": "a", "command_name": "PING"},
                                           {"id": "b", "command_name": "PING", "args": []}]},
    "nested batch": {"commands": [{"id": "a", "command_name": "PING", "commands": []}]},
    "too many items": {"commands": [{"id": str(n), "command_name": "PING"} for n in range(4)]},
}


@pytest.mark.parametrize("envelope", ENVELOPES.values(), ids=ENVELOPES.keys())
def test_wrong_envelope_stores_nothing(make_app, database, envelope):
    client = make_app(uplink_batch_max=3).test_client()
    answer = assert_error(client.post("/commands", json=envelope), 422, "validation_error")
    assert answer["fields"]
    assert stored_count(database) == 0


def test_duplicate_ids_name_both_items_and_store_nothing(client, command, database):
    body = command("PING")
    answer = assert_error(client.post("/commands", json={"commands": [
        body, command("PING"), {**body, "command_name": "REBOOT"}]}), 422, "validation_error")
    assert answer["fields"] == [{"field": "commands.2.id",
                                 "message": f"duplicate id {body['id']!r} (also commands.0.id)"}]
    assert stored_count(database) == 0


def test_query_reports_known_commands_in_request_order_and_lists_unknown_ids(client, command):
    first, second = command("PING"), command("REBOOT")
    receive_batch(client, [first, second])

    answer = client.post("/commands/query",
                         json={"ids": [second["id"], "never-sent", first["id"], second["id"]]})
    assert answer.status_code == 200
    body = answer.get_json()
    assert [report["id"] for report in body["commands"]] == [second["id"], first["id"]]
    assert body["commands"][0]["command_name"] == "REBOOT"
    assert set(body["commands"][0]) == {"id", "command_name", "state", "detail", "executions",
                                        "receipts", "received_at", "finished_at"}
    assert body["unknown"] == ["never-sent"]


@pytest.mark.parametrize("query", [{}, {"ids": []}, {"ids": "a"}, {"ids": [1]},
                                   {"ids": ["x" * 65]}, {"ids": ["a", "b", "c", "d"]}])
def test_malformed_query_is_refused(make_app, query):
    client = make_app(uplink_batch_max=3).test_client()
    assert_error(client.post("/commands/query", json=query), 422, "validation_error")


@pytest.mark.parametrize("body", [[], "ids", 3])
def test_query_body_must_be_an_object(client, body):
    assert_error(client.post("/commands/query", json=body), 422, "validation_error")


def test_batch_may_exceed_the_single_form_limit(make_app, command):
    client = make_app(max_body_bytes=1024, uplink_max_body_bytes=64 * 1024).test_client()
    bodies = [command("PING") for _ in range(40)]
    assert len(json.dumps({"commands": bodies})) > 1024
    assert client.post("/commands", json={"commands": bodies}).status_code == 202
    ids = {"ids": [b["id"] for b in bodies] + ["x" * 60] * 20}
    assert client.post("/commands/query", json=ids).status_code == 200
    # The single form keeps its own limit even on the route that takes batches.
    assert_error(client.post("/commands", json=command("PING", padding="x" * 2048)), 413)


@pytest.mark.parametrize("path, key", [("/commands", "commands"), ("/commands/query", "ids")])
def test_over_limit_batch_body_is_refused(make_app, command, database, path, key):
    client = make_app(uplink_max_body_bytes=2048).test_client()
    items = [command("PING") for _ in range(40)] if key == "commands" else ["x" * 60] * 40
    answer = assert_error(client.post(path, json={key: items}), 413, "payload_too_large")
    assert "2048" in answer["message"]
    assert stored_count(database) == 0


@pytest.mark.parametrize("path, key", [("/commands", "commands"), ("/commands/query", "ids")])
def test_chunked_body_over_the_limit_is_refused(make_app, command, database, path, key):
    client = make_app(uplink_max_body_bytes=2048).test_client()
    items = [command("PING") for _ in range(40)] if key == "commands" else ["x" * 60] * 40
    data = json.dumps({key: items}).encode()

    # As gunicorn passes on a chunked body: Transfer-Encoding chunked (so werkzeug ignores any
    # Content-Length) and a stream that ends where the body does.
    response = client.post(path, input_stream=io.BytesIO(data), content_type="application/json",
                           headers={"Transfer-Encoding": "chunked"},
                           environ_overrides={"wsgi.input_terminated": True})
    assert_error(response, 413, "payload_too_large")
    assert stored_count(database) == 0
