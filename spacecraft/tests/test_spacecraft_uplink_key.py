"""The uplink needs UPLINK_KEY: without it, with another key or another scheme the spacecraft
answers 401 and does nothing; /state, /health and the API docs stay open. Both databases."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import func, select

from mission_control.models import UplinkedCommand
from mission_control.testing import assert_error

from .conftest import UPLINK_KEY

CREDENTIALS = {
    "no header": None,
    "empty bearer": "Bearer ",
    "wrong key": "Bearer not-the-uplink-key",
    "key with a suffix": f"Bearer {UPLINK_KEY}x",
    "key prefix": f"Bearer {UPLINK_KEY[:-1]}",
    "basic scheme": f"Basic {UPLINK_KEY}",
    "no scheme": UPLINK_KEY,
    "non-ASCII": "Bearer cl\u00e9",
}


def stored_count(database) -> int:
    with database.transaction() as session:
        return session.scalar(select(func.count()).select_from(UplinkedCommand))


def calls(command_id: str, body: dict) -> list[tuple[str, str, dict | None]]:
    return [("POST", "/commands", body), ("POST", "/commands", {"commands": [body]}),
            ("POST", "/commands/query", {"ids": [command_id]}),
            ("GET", f"/commands/{command_id}", None)]


@pytest.mark.parametrize("credential", CREDENTIALS.values(), ids=CREDENTIALS.keys())
def test_every_uplink_call_without_the_key_is_refused(anonymous, command, database, caplog,
                                                      credential):
    caplog.set_level(logging.DEBUG)
    body = command("SET_HEATER", {"on": True})
    headers = {"Authorization": credential} if credential is not None else {}
    for method, path, json in calls(body["id"], body):
        response = anonymous.open(path, method=method, json=json, headers=headers)
        answer = assert_error(response, 401, "unauthorized")
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert "UPLINK_KEY" in answer["message"]
        assert UPLINK_KEY not in response.get_data(as_text=True)
    assert stored_count(database) == 0
    assert anonymous.get("/state").get_json()["heater_on"] is False
    assert UPLINK_KEY not in caplog.text


def test_with_the_key_every_uplink_call_answers(client, command, database):
    body = command("SET_HEATER", {"on": True})
    assert client.post("/commands", json=body).status_code == 202
    assert client.post("/commands", json={"commands": [command("PING")]}).status_code == 202
    assert client.post("/commands/query", json={"ids": [body["id"]]}).status_code == 200
    assert client.get(f"/commands/{body['id']}").status_code == 200
    assert stored_count(database) == 2


def test_the_key_is_read_from_the_header_whatever_its_scheme_case(anonymous, command):
    response = anonymous.post("/commands", json=command("PING"),
                              headers={"Authorization": f"bearer {UPLINK_KEY}"})
    assert response.status_code == 202


@pytest.mark.parametrize("path", ["/state", "/health", "/openapi.json", "/docs"])
def test_state_health_and_docs_stay_open(anonymous, path):
    assert anonymous.get(path).status_code == 200


def test_unknown_routes_and_methods_say_so_without_the_key(anonymous):
    assert_error(anonymous.get("/nowhere"), 404)
    assert_error(anonymous.delete("/commands"), 405)


def test_without_a_configured_key_one_is_made_in_var_and_used(make_app, tmp_path, command):
    app = make_app(uplink_key=None, var_dir=tmp_path)
    anonymous = app.test_client()
    del anonymous.environ_base["HTTP_AUTHORIZATION"]
    assert_error(anonymous.post("/commands", json=command("PING")), 401)
    made = (tmp_path / "uplink-key").read_text().strip()
    assert len(made) >= 40 and (tmp_path / "uplink-key").stat().st_mode & 0o777 == 0o600
    response = anonymous.post("/commands", json=command("PING"),
                              headers={"Authorization": f"Bearer {made}"})
    assert response.status_code == 202
    assert_error(anonymous.post("/commands", json=command("PING"),
                                headers={"Authorization": f"Bearer {UPLINK_KEY}"}), 401)


def test_hazardous_command_with_confirmed_by_is_accepted_and_logged(client, command, caplog,
                                                                    run_executor):
    caplog.set_level(logging.INFO, logger="spacecraft.uplink")
    body = command("REBOOT", confirmed_by="alice")
    assert client.post("/commands", json=body).status_code == 202
    assert f"command {body['id']} REBOOT confirmed by alice" in caplog.text
    run_executor()
    assert client.get("/state").get_json()["boot_count"] == 1


def test_a_batch_refuses_only_the_unconfirmed_hazardous_command(client, command, database):
    confirmed, unconfirmed, plain = (command("REBOOT"), command("DEPLOY_SOLAR_ARRAY", confirmed_by=None),
                                     command("PING"))
    answer = client.post("/commands", json={"commands": [confirmed, unconfirmed, plain]})
    assert answer.status_code == 202
    items = answer.get_json()["acknowledgements"]
    assert [item["acknowledged"] for item in items] == [True, False, True]
    assert items[1]["error"] == "invalid_command" and "confirmed_by" in items[1]["message"]
    assert stored_count(database) == 2
