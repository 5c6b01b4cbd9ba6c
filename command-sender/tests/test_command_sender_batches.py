"""The uplink carries batches: commands travel per uplink in batches, each command keeps its own fate."""

from __future__ import annotations

import logging
import uuid

from sqlalchemy import insert, select

from command_sender.claims import Claimed
from mission_control.models import Target, Telecommand, UplinkedCommand
from mission_control.status import Status
from mission_control.testing import gen_command, history_problems


def _claimed(args: dict) -> Claimed:
    return Claimed(uuid.uuid4(), Status.TRANSMITTED, "spacecraft", "spacecraft", None, "PING",
                   args, 0)


def test_batches_hold_at_most_the_batch_maximum(make_worker):
    worker = make_worker(uplink_batch_max=100)
    sizes = [len(chunk) for chunk in worker.steps.chunks([_claimed({}) for _ in range(250)])]
    assert sizes == [100, 100, 50]


def test_batches_stay_well_under_the_targets_body_limit(make_worker):
    worker = make_worker(uplink_batch_max=500, uplink_max_body_bytes=64 * 1024)
    big = {"blob": "x" * 10_000}
    chunks = worker.steps.chunks([_claimed(big) for _ in range(12)])
    assert sum(len(c) for c in chunks) == 12
    assert all(len(c) <= 3 for c in chunks) and len(chunks) >= 4


def test_many_commands_reach_the_target_in_few_calls_and_each_runs_once(
        database, make_worker, running, settle, caplog):
    ids = [gen_command(database) for _ in range(250)]
    worker = make_worker(uplink_batch_max=100, worker_batch_size=250)
    with caplog.at_level(logging.INFO, logger="command_sender"), running(worker):
        settle(database)
    with database.transaction() as session:
        received = session.scalars(select(UplinkedCommand)).all()
        statuses = set(session.scalars(select(Telecommand.status)).all())
    assert len(received) == len(ids)
    assert all(c.executions == 1 and c.receipts == 1 for c in received)
    assert statuses == {Status.EXECUTED.value}
    assert history_problems(database) == []
    totals = [r.getMessage() for r in caplog.records if "totals: " in r.getMessage()]
    assert totals and "sent=250" in totals[-1]
    batches = int(totals[-1].split("batches=")[1].split()[0])
    assert 6 <= batches < 250  # at least 3 sends and 3 queries of <= 100; far fewer than one a command


def test_a_refused_command_fails_alone_and_its_batch_goes_through(
        database, make_worker, running, settle):
    refused = gen_command(database, command_name="SET_HEATER", args={"on": "maybe"})
    fine = [gen_command(database) for _ in range(5)]
    with running(make_worker()):
        settle(database)
    with database.transaction() as session:
        rows = {c.id: c for c in session.scalars(select(Telecommand))}
    assert rows[refused].status == Status.FAILED
    assert "HTTP 422" in rows[refused].status_reason and "on" in rows[refused].status_reason
    assert all(rows[i].status == Status.EXECUTED for i in fine)


def test_a_target_no_uplink_serves_fails_with_the_reason(database, make_worker, running, settle):
    with database.transaction() as session:
        session.execute(insert(Target), [{"id": "balloon-1", "kind": "balloon", "name": "Balloon"}])
    command_id = gen_command(database)
    with database.transaction() as session:
        session.get(Telecommand, command_id).target_id = "balloon-1"
    with running(make_worker()):
        settle(database)
    with database.transaction() as session:
        failed = session.get(Telecommand, command_id)
        assert session.get(UplinkedCommand, str(command_id)) is None
    assert failed.status == Status.FAILED
    assert "no uplink" in failed.status_reason and "balloon" in failed.status_reason
