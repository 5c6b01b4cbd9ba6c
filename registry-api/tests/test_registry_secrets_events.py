"""Secrets are stored as argon2 hashes and never answered; every write appends a change event."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from mission_control.registry_models import RegistryEvent, Robot
from mission_control.testing import assert_error, token_for


PREFIX = "/api/v1"
PASSWORD = "correct horse battery staple"
NETWORK_PASSWORD = "wifi-secret-42"


def test_secrets_are_stored_as_argon2id_hashes_with_the_default_parameters(database, registry):
    robot = registry.robot(password=PASSWORD, network_password=NETWORK_PASSWORD)
    with database.transaction() as session:
        row = session.get(Robot, uuid.UUID(robot["id"]))
    for stored in (row.password_hash, row.network_password_hash):
        assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
        assert PASSWORD not in stored and NETWORK_PASSWORD not in stored


def test_no_response_body_contains_a_secret_or_its_hash(client, registry, database, fast_hashing):
    robot = registry.robot(password=PASSWORD, network_password=NETWORK_PASSWORD)
    assert robot["has_password"] is True and robot["has_network_password"] is True
    with database.transaction() as session:
        row = session.get(Robot, uuid.UUID(robot["id"]))
        hashes = [row.password_hash, row.network_password_hash]
    responses = [
        client.get(f"{PREFIX}/robots/{robot['id']}"),
        client.get(f"{PREFIX}/robots"),
        client.patch(f"{PREFIX}/robots/{robot['id']}", json={"password": PASSWORD + "!"}),
        client.patch(f"{PREFIX}/robots/{robot['id']}", json={"status": "RUNNING"}),
        client.post(f"{PREFIX}/robots/{robot['id']}/verify-password", json={"password": "nope"}),
        client.post(f"{PREFIX}/robots", json={"name": "r", "owner": "o", "owner_email": "bad",
                                              "password": PASSWORD}),
        client.get(f"{PREFIX}/events"),
        client.get("/openapi.json"),
    ]
    for response in responses:
        text = response.get_data(as_text=True)
        for secret in [PASSWORD, NETWORK_PASSWORD, "$argon2", *hashes]:
            assert secret not in text, (response.request.path, secret)


def test_verify_password_answers_204_or_401(client, registry, fast_hashing):
    robot = registry.robot(password=PASSWORD)
    url = f"{PREFIX}/robots/{robot['id']}/verify-password"
    assert client.post(url, json={"password": PASSWORD}).status_code == 204
    wrong = client.post(url, json={"password": "guess"})
    assert_error(wrong, 401, "wrong_password")
    client.patch(f"{PREFIX}/robots/{robot['id']}", json={"password": "new one"})
    assert_error(client.post(url, json={"password": PASSWORD}), 401, "wrong_password")
    assert client.post(url, json={"password": "new one"}).status_code == 204


def test_verify_password_of_a_robot_without_one_is_401(client, registry):
    robot = registry.robot()
    assert robot["has_password"] is False
    response = client.post(f"{PREFIX}/robots/{robot['id']}/verify-password", json={"password": "x"})
    assert_error(response, 401, "wrong_password")


def test_verify_password_errors(client, registry):
    robot = registry.robot()
    url = f"{PREFIX}/robots/{robot['id']}/verify-password"
    assert_error(client.post(f"{PREFIX}/robots/{uuid.uuid4()}/verify-password",
                             json={"password": "x"}), 404, "not_found")
    assert_error(client.post(url, json={}), 422, "validation_error")
    assert_error(client.post(url, json={"password": "x", "extra": 1}), 422, "validation_error")
    assert_error(client.post(url, data="x", content_type="text/plain"), 415,
                 "unsupported_media_type")


def events_after(client, since: int = 0) -> list[dict]:
    return client.get(f"{PREFIX}/events?since={since}").get_json()["items"]


def test_every_create_update_and_delete_appends_an_event(client, registry, fast_hashing):
    robot = registry.robot(password=PASSWORD)
    cursor = events_after(client)[-1]["id"]
    client.patch(f"{PREFIX}/robots/{robot['id']}", json={"status": "FAILED", "port": 9000,
                                                         "password": "other"})
    client.patch(f"{PREFIX}/robots/{robot['id']}", json={"status": "FAILED"})  # no change
    client.delete(f"{PREFIX}/robots/{robot['id']}")
    update, delete = events_after(client, cursor)
    assert (update["entity"], update["entity_id"], update["action"]) == ("robot", robot["id"], "updated")
    assert update["changed"] == ["password", "port", "status"]
    assert (delete["action"], delete["changed"]) == ("deleted", [])
    assert update["id"] < delete["id"] and update["at"] <= delete["at"]


def test_creation_events_name_the_written_fields(client, registry):
    workspace = registry.workspace()
    [event] = events_after(client)
    assert event == {"id": event["id"], "entity": "workspace", "entity_id": workspace["id"],
                     "action": "created", "changed": ["description", "name"], "actor": "admin",
                     "at": event["at"]}


def test_each_event_names_the_signed_in_user_whatever_x_operator_says(app, database, registry):
    """The client fixture is 'admin'; a second admin's changes are recorded as theirs."""
    module = registry.module()
    ada = app.test_client()
    ada.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token_for(database, 'Ada', 'admin')}"
    cursor = events_after(ada)[-1]["id"]
    claimed = {"X-Operator": "mallory"}
    workspace = ada.post(f"{PREFIX}/workspaces", json={"name": "ada's"}, headers=claimed)
    ada.patch(f"{PREFIX}/modules/{module['id']}", json={"type": "gripper"}, headers=claimed)
    ada.delete(f"{PREFIX}/robots/{module['robot_id']}?cascade=true", headers=claimed)
    actions = [(e["entity"], e["action"], e["actor"]) for e in events_after(ada, cursor)]
    assert actions == [("workspace", "created", "Ada"), ("module", "updated", "Ada"),
                       ("module", "deleted", "Ada"), ("robot", "deleted", "Ada")]
    assert workspace.status_code == 201
    with database.transaction() as session:
        assert set(session.scalars(select(RegistryEvent.actor))) == {"admin", "Ada"}


def test_a_cascade_appends_one_delete_event_per_row(client, registry):
    module = registry.module()
    robot_id = module["robot_id"]
    level_id = client.get(f"{PREFIX}/robots/{robot_id}").get_json()["level_id"]
    cursor = events_after(client)[-1]["id"]
    client.delete(f"{PREFIX}/levels/{level_id}?cascade=true")
    deleted = [(e["entity"], e["entity_id"]) for e in events_after(client, cursor)]
    assert deleted == [("module", module["id"]), ("robot", robot_id), ("level", level_id)]


def test_a_refused_write_appends_no_event(client, registry, database):
    project = registry.project()
    with database.transaction() as session:
        before = session.scalar(select(func.count()).select_from(RegistryEvent))
    client.delete(f"{PREFIX}/workspaces/{project['workspace_id']}")  # 409
    client.post(f"{PREFIX}/projects", json={"name": project["name"],
                                            "workspace_id": project["workspace_id"]})  # 409
    with database.transaction() as session:
        assert session.scalar(select(func.count()).select_from(RegistryEvent)) == before


def test_events_page_through_with_the_cursor(client, registry):
    for _ in range(5):
        registry.workspace()
    first = client.get(f"{PREFIX}/events?limit=2").get_json()
    second = client.get(f"{PREFIX}/events?limit=2&since={first['next']}").get_json()
    rest = client.get(f"{PREFIX}/events?since={second['next']}").get_json()
    ids = [e["id"] for page in (first, second, rest) for e in page["items"]]
    assert len(ids) == 5 and ids == sorted(ids)
    assert client.get(f"{PREFIX}/events?since={rest['next']}").get_json() == \
        {"items": [], "next": rest["next"]}
    assert_error(client.get(f"{PREFIX}/events?since=-1"), 422, "validation_error")
