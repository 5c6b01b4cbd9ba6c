"""One robot-server process (gunicorn's gevent worker, WEB_CONCURRENCY=1) holds hundreds of
idle long polls at once, still answers other calls meanwhile, and wakes only the poll of the
robot a command is for."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from mission_control.passwords import hasher
from mission_control.registry_models import Robot
from robot_server import sessions
from robot_server.testing import add_robot

POLLS = 300
WAIT_S = 6


@pytest.mark.local_only("starts its own robot-server and writes robots into the database")
def test_one_process_holds_hundreds_of_idle_polls(system_factory, database):
    system = system_factory(services=("robot-server",), web_concurrency=1)
    robots = [add_robot(database, f"poller-{i}", password=None)[0] for i in range(POLLS)]
    tokens = [sessions.open_session(database, robot_id, 3600).token for robot_id in robots]

    def poll(index: int) -> requests.Response:
        return requests.get(f"{system.robot_server_url}/robots/{robots[index]}/commands",
                            params={"wait": WAIT_S}, timeout=WAIT_S + 20,
                            headers={"Authorization": f"Bearer {tokens[index]}"})

    with ThreadPoolExecutor(POLLS) as pool:
        polls = [pool.submit(poll, index) for index in range(POLLS)]
        time.sleep(2)
        assert not any(p.done() for p in polls), [p.result().text for p in polls if p.done()]
        started = time.monotonic()
        assert requests.get(f"{system.robot_server_url}/health", timeout=5).status_code == 200
        assert time.monotonic() - started < 1  # the waiting polls do not hold the process up
        command = {"id": str(uuid.uuid4()), "command_name": "PING", "target": str(robots[7])}
        assert requests.post(f"{system.robot_server_url}/commands", json=command, timeout=10,
                             headers=system.uplink_headers).status_code == 202
        woken = polls[7].result(timeout=3)
        assert woken.status_code == 200 and woken.json()["commands"][0]["id"] == command["id"]
        answers = [p.result(timeout=WAIT_S + 20) for p in polls]
    assert all(a.status_code == 200 for a in answers), {a.status_code for a in answers}
    assert sum(bool(a.json()["commands"]) for a in answers) == 1


@pytest.mark.local_only("times its own robot-server process")
def test_opening_sessions_does_not_stop_the_process(system_factory, database):
    """argon2 (a fifth of a second of CPU per session) runs on a native thread, not in the
    gevent loop: while sessions open one after another, the process answers at once."""
    system = system_factory(services=("robot-server",), web_concurrency=1)
    robot_id, _ = add_robot(database, "hashed", password=None)
    with database.transaction() as session:  # a real argon2id hash, as registry-api stores
        session.get_one(Robot, robot_id).password_hash = hasher.hash("robot password 1")
    opening = f"{system.robot_server_url}/robots/{robot_id}/session"
    with ThreadPoolExecutor(4) as pool:
        sessions_opened = [pool.submit(requests.post, opening, timeout=30,
                                       json={"password": "robot password 1"})
                           for _ in range(4)]
        time.sleep(0.1)
        answers = []
        while not all(s.done() for s in sessions_opened):
            started = time.monotonic()
            assert requests.get(f"{system.robot_server_url}/health", timeout=5).ok
            answers.append(time.monotonic() - started)
            time.sleep(0.02)
    assert [s.result().status_code for s in sessions_opened] == [201] * 4
    # A hash in the loop would hold most answers for a good part of its fifth of a second;
    # a rare slow one is the machine's two cores busy with argon2's own threads.
    answers.sort()
    assert len(answers) >= 5 and answers[int(len(answers) * 0.9)] < 0.15, answers
