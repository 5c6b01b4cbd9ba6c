"""The long polls' wake-ups: a command stored for a robot wakes the polls of that robot only,
in this process at once and, on PostgreSQL, in every process through LISTEN/NOTIFY; and the
same listener makes every process forget a closed session."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from mission_control.testing import wait_for
from robot_server import presence, sessions
from robot_server.wakeup import CHANNEL, Listener, Waiters
from robot_server.testing import auth, beat, token_of, uplink_command


def test_a_stored_command_wakes_the_polls_of_its_robot_only(app, uplink, robot, database):
    waiters: Waiters = app.extensions["waiters"]
    other = "another-robot"
    with waiters.waiting(str(robot[0])) as mine, waiters.waiting(other) as theirs:
        assert waiters.count() == 2
        assert uplink.post("/commands", json=uplink_command(robot[0])).status_code == 202
        assert mine.is_set() and not theirs.is_set()
    assert waiters.count() == 0


def test_notify_from_another_connection_wakes_the_listeners_polls(database):
    if not database.is_postgresql:
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's; SQLite polls look every 0.2 s")
    waiters = Waiters()
    listener = Listener(database, waiters)
    with waiters.waiting("robot-1") as woken:
        listener.start()
        try:
            assert woken.wait(10), "the listener wakes every poll once it listens"
            assert listener.connected
            woken.clear()
            with database.begin() as connection:  # as another robot-server process would
                connection.execute(select(func.pg_notify(CHANNEL, "robot-1")))
            assert woken.wait(10)
        finally:
            listener.stop()


def test_a_session_closed_by_another_process_is_forgotten_here(client, database, robot):
    """Sessions are kept in each process only while closes by the others are heard: on
    PostgreSQL through the listener, which forgets a closed one when its NOTIFY arrives."""
    robot_id, _ = robot
    token = token_of(client, robot_id)
    hashed = sessions.token_hash(token)
    listener = Listener(database, Waiters())
    listener.start()
    try:
        if not database.is_postgresql:  # nothing kept: a close elsewhere would go unheard
            assert client.post(f"/robots/{robot_id}/heartbeat", headers=auth(token),
                               json=beat()).status_code == 200
            assert sessions.recent.get(hashed) is None
            return
        wait_for(lambda: listener.connected, 10, message="the listener connected")
        assert client.post(f"/robots/{robot_id}/heartbeat", headers=auth(token),
                           json=beat()).status_code == 200
        session_id = sessions.recent.get(hashed).session_id  # kept after its first check
        presence.close_session(database, robot_id, session_id)  # as another process would
        wait_for(lambda: sessions.recent.get(hashed) is None, 10, message="the session forgotten")
        assert client.post(f"/robots/{robot_id}/heartbeat", headers=auth(token),
                           json=beat()).status_code == 401
    finally:
        listener.stop()
    assert sessions.recent.ttl_s == sessions.UNHEARD_CACHE_S  # unheard once it stops
