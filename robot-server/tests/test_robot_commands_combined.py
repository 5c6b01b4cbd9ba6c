"""Many robots' command calls combined into one statement of each kind (combine.py,
delivery.RobotCommands): batches form while one runs, every caller gets its own answer, and
a command acknowledged or finished twice in one batch still counts once."""

from __future__ import annotations

import threading
import time

import pytest

from robot_server import delivery
from robot_server.combine import Combiner
from robot_server.testing import add_robot, uplink_command


def send(uplink, robot_id) -> dict:
    body = uplink_command(robot_id)
    assert uplink.post("/commands", json=body).status_code == 202
    return body


def test_calls_arriving_while_a_batch_runs_form_the_next_batch():
    batches: list[list[int]] = []
    first_running = threading.Event()
    release = threading.Event()

    def run(items: list[int]) -> list[int]:
        batches.append(list(items))
        if len(batches) == 1:
            first_running.set()
            release.wait(5)
        return [item * 10 for item in items]

    combined = Combiner(run)
    answers: dict[int, int] = {}

    def call(item: int) -> None:
        answers[item] = combined(item)

    threads = [threading.Thread(target=call, args=(0,))]
    threads[0].start()
    assert first_running.wait(5)
    threads += [threading.Thread(target=call, args=(i,)) for i in range(1, 6)]
    for thread in threads[1:]:
        thread.start()
    time.sleep(0.2)  # all five wait behind the first batch
    release.set()
    for thread in threads:
        thread.join(5)
    assert answers == {i: i * 10 for i in range(6)}
    assert batches[0] == [0]
    assert sorted(batches[1]) == [1, 2, 3, 4, 5]


def test_an_error_reaches_every_caller_of_its_batch_and_the_next_batch_still_runs():
    calls = []

    def run(items):
        calls.append(items)
        if len(calls) == 1:
            raise RuntimeError("database away")
        return items

    combined = Combiner(run)
    with pytest.raises(RuntimeError):
        combined("a")
    assert combined("b") == "b"


def test_one_command_acknowledged_twice_in_a_batch_starts_once(uplink, database):
    robot_id, _ = add_robot(database)
    command = send(uplink, robot_id)
    assert delivery.acknowledge_many(database, [(robot_id, command["id"]),
                                                (robot_id, command["id"])]) == [True, False]
    with pytest.raises(delivery.WrongState) as refused:
        delivery.RobotCommands(database).acknowledge(robot_id, command["id"])
    assert refused.value.error == "already_acknowledged"


def test_a_batch_acknowledges_and_finishes_only_each_robots_own_commands(uplink, database):
    mine, _ = add_robot(database, "mine")
    other, _ = add_robot(database, "other")
    first, second = send(uplink, mine), send(uplink, other)
    assert delivery.acknowledge_many(database, [(mine, first["id"]), (mine, second["id"])]) \
        == [True, False]  # the second is another robot's: left alone
    reports = delivery.finish_many(database, [(mine, first["id"], "EXECUTED", None),
                                              (mine, first["id"], "FAILED", "again"),
                                              (other, second["id"], "EXECUTED", None)])
    assert reports[0].state == "EXECUTED" and reports[0].executions == 1
    assert reports[1:] == [None, None]  # finished already; not acknowledged


def test_one_delivery_statement_serves_several_robots_polls(uplink, database):
    robots = [add_robot(database, f"r{i}")[0] for i in range(3)]
    sent = {robot_id: [send(uplink, robot_id)["id"], send(uplink, robot_id)["id"]]
            for robot_id in robots[:2]}
    answers = delivery.deliver_many(database, [(robots[0], False), (robots[1], True),
                                               (robots[2], True)])
    assert [[c["id"] for c in answer] for answer in answers] == \
        [sent[robots[0]], sent[robots[1]], []]
