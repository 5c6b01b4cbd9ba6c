"""The long polls' wake-ups: a command stored for a robot wakes the polls of that robot only,
in this process at once and, on PostgreSQL, in every process through LISTEN/NOTIFY."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from robot_server.wakeup import CHANNEL, Listener, Waiters
from robot_server.testing import uplink_command


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
