"""The worker presents UPLINK_KEY to the real spacecraft (on a loopback port) on every call and
carries who confirmed a hazardous command. A wrong key fails no command: they wait, the
refusal is logged, and once the keys agree the pipeline completes."""

from __future__ import annotations

import logging
import time

from sqlalchemy import select, update

from mission_control.models import Telecommand, TelecommandHistory, UplinkedCommand
from mission_control.status import Status
from mission_control.testing import gen_command
from mission_control.timeutil import utcnow

from .conftest import UPLINK_KEY

REFUSAL = "uplink refused the key: check UPLINK_KEY"


def rows(database, model, *conditions):
    with database.transaction() as session:
        return session.scalars(select(model).where(*conditions)).all()


def test_the_pipeline_completes_with_the_key_and_hazards_carry_who_confirmed(
        database, make_worker, running, settle, caplog):
    caplog.set_level(logging.INFO)
    ping = gen_command(database)
    reboot = gen_command(database, command_name="REBOOT", confirmed_by="alice")
    with running(make_worker()):
        settle(database)
    assert {c.id: c.status for c in rows(database, Telecommand)} == {
        ping: Status.EXECUTED, reboot: Status.EXECUTED}
    assert f"command {reboot} REBOOT confirmed by alice" in caplog.text
    assert REFUSAL not in caplog.text
    assert UPLINK_KEY not in caplog.text


def test_a_hazardous_command_nobody_confirmed_is_refused_by_the_target(
        database, make_worker, running, settle):
    command_id = gen_command(database, command_name="REBOOT")  # e.g. inserted behind ground's back
    with running(make_worker()):
        settle(database)
    failed = rows(database, Telecommand)[0]
    assert failed.status == Status.FAILED and "confirmed_by" in failed.status_reason
    assert rows(database, UplinkedCommand) == []
    assert failed.id == command_id


def test_a_wrong_key_fails_nothing_and_is_logged_until_the_keys_agree(
        database, make_worker, running, settle, caplog):
    caplog.set_level(logging.INFO)
    ids = [gen_command(database) for _ in range(3)]
    wrong = make_worker(uplink_key="not-the-spacecraft-key", max_send_attempts=2)
    with running(wrong):
        deadline = time.monotonic() + 20
        while caplog.text.count(REFUSAL) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
    assert caplog.text.count(REFUSAL) >= 3, caplog.text[-3000:]  # again and again, never given up
    waiting = rows(database, Telecommand)
    found = [(c.status, c.attempts, c.lease_owner, c.status_reason) for c in waiting]
    assert {c.status for c in waiting} == {Status.TRANSMITTED}, found
    assert {c.attempts for c in waiting} == {0} and {c.lease_owner for c in waiting} == {None}, found
    assert rows(database, UplinkedCommand) == []
    assert "not-the-spacecraft-key" not in caplog.text

    with running(make_worker()):
        settle(database)
    assert {c.status for c in rows(database, Telecommand)} == {Status.EXECUTED}
    for command_id in ids:
        entries = rows(database, TelecommandHistory,
                       TelecommandHistory.telecommand_id == command_id)
        path = [h.to_status for h in sorted(entries, key=lambda h: h.id)]  # no row order in SQL
        assert path == ["READY", "TRANSMITTED", "ACKNOWLEDGED", "EXECUTED"]


def test_a_wrong_key_while_asking_leaves_commands_acknowledged(
        database, make_worker, running, settle, caplog):
    caplog.set_level(logging.INFO)
    command_id = gen_command(database)
    with running(make_worker(max_stage_delay_s=30)):  # sent, then asked about only later
        deadline = time.monotonic() + 10
        while rows(database, Telecommand)[0].status != Status.ACKNOWLEDGED:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    with database.transaction() as session:  # to be asked at once, by a worker with a wrong key
        session.execute(update(Telecommand).values(next_step_at=utcnow()))
    with running(make_worker(uplink_key="wrong", max_send_attempts=1)):
        deadline = time.monotonic() + 10
        while REFUSAL not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
    assert REFUSAL in caplog.text
    assert rows(database, Telecommand)[0].status == Status.ACKNOWLEDGED
    with running(make_worker()):
        settle(database)
    assert rows(database, Telecommand)[0].status == Status.EXECUTED
