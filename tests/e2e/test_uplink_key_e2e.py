"""The real spacecraft (gunicorn) takes commands only with UPLINK_KEY, so nobody bypasses
ground; with the key in the command-sender's environment the pipeline still completes, and a
command-sender with a wrong key fails nothing."""

import uuid

import pytest
import requests
from sqlalchemy import func, select

from mission_control.models import Telecommand, UplinkedCommand

from .harness import wait_for

REFUSED = {"none": {}, "wrong key": {"Authorization": "Bearer not-the-uplink-key"},
           "basic": {"Authorization": "Basic not-the-uplink-key"}}


def stored(database) -> int:
    with database.transaction() as session:
        return session.scalar(select(func.count()).select_from(UplinkedCommand))


def statuses(database) -> list[str]:
    with database.transaction() as session:
        return session.scalars(select(Telecommand.status)).all()


def boot_count(url: str) -> int:
    return requests.get(f"{url}/state", timeout=10).json()["boot_count"]


def test_the_spacecraft_refuses_an_uplink_without_the_key(private_database, system_factory):
    system = system_factory()
    url = system.spacecraft_url
    boots = boot_count(url)
    body = {"id": str(uuid.uuid4()), "command_name": "REBOOT", "confirmed_by": "mallory"}
    for name, headers in REFUSED.items():
        for method, path, json in (("POST", "/commands", body),
                                   ("POST", "/commands", {"commands": [body]}),
                                   ("POST", "/commands/query", {"ids": [body["id"]]}),
                                   ("GET", f"/commands/{body['id']}", None)):
            response = requests.request(method, f"{url}{path}", json=json, headers=headers,
                                        timeout=10)
            assert response.status_code == 401, (name, path, response.text)
            assert response.headers["WWW-Authenticate"].startswith("Bearer")
            assert response.json()["error"] == "unauthorized"
    # With the key, the spacecraft says it never received the command: nothing was stored.
    unknown = requests.get(f"{url}/commands/{body['id']}", headers=system.uplink_headers,
                           timeout=10)
    assert unknown.status_code == 404, unknown.text
    if private_database is not None:
        assert stored(private_database) == 0
    assert boot_count(url) == boots
    assert requests.get(f"{url}/health", timeout=10).status_code == 200


@pytest.mark.local_only("reads the spacecraft's log and counts every command in the database")
def test_with_the_key_the_command_sender_gets_a_hazardous_command_through(database,
                                                                          system_factory):
    system = system_factory()
    url = system.spacecraft_url
    response = requests.post(f"{system.ground_url}/api/telecommands", timeout=10,
                             headers=system.headers("operator"),
                             json={"command_name": "REBOOT", "confirm": True})
    assert response.status_code == 201, response.text
    command_id = response.json()["id"]
    wait_for(lambda: statuses(database) == ["EXECUTED"], timeout=30, message="EXECUTED")
    report = requests.get(f"{url}/commands/{command_id}", headers=system.uplink_headers,
                          timeout=10)
    assert report.status_code == 200 and report.json()["executions"] == 1
    assert stored(database) == 1
    assert f"confirmed by {system.users['operator'].username}" in system.log("spacecraft")
    assert boot_count(url) == 1


@pytest.mark.local_only("starts a command-sender of its own with a wrong key and reads its log")
def test_a_command_sender_with_a_wrong_key_fails_nothing(database, system_factory):
    system = system_factory(services=("ground", "spacecraft"))
    system.start("command-sender", instance="wrong-key", UPLINK_KEY="not-the-uplink-key",
                 MAX_SEND_ATTEMPTS="2", RETRY_BACKOFF_S="0.05")
    with system.session("operator") as http:
        for _ in range(3):
            response = http.post(f"{system.ground_url}/api/telecommands",
                                 json={"command_name": "PING"}, timeout=10)
            assert response.status_code == 201
    # Each command waits out its random transmit delay first, so the refusals of the first
    # ones can be logged while the last is still READY: wait for both.
    wait_for(lambda: system.log("wrong-key").count("uplink refused the key") >= 3
             and set(statuses(database)) == {"TRANSMITTED"}, timeout=30,
             message="every command sent and its refusal logged again and again")
    assert stored(database) == 0
    system.stop("wrong-key")

    system.start("command-sender")
    wait_for(lambda: statuses(database) == ["EXECUTED"] * 3, timeout=30,
             message="every command EXECUTED once the key is right")
