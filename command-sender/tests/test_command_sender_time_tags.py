"""Time-tagged commands and contact windows in the real worker loop, on the real database:
not before its time, only inside a pass, FAILED "expired" when its time runs out."""

from __future__ import annotations

import time
from datetime import timedelta

from sqlalchemy import select, update

from mission_control import lifecycle, passes
from mission_control.models import SPACECRAFT_TARGET_ID, Telecommand, TelecommandHistory, \
    UplinkedCommand
from mission_control.status import Status
from mission_control.testing import gen_command, history_problems
from mission_control.timeutil import utcnow


def tag(database, command_id, **times) -> None:
    with database.transaction() as session:
        session.execute(update(Telecommand).where(Telecommand.id == command_id).values(**times))


def row(database, command_id) -> Telecommand:
    with database.transaction() as session:
        return session.get(Telecommand, command_id)


def history(database, command_id) -> list[TelecommandHistory]:
    with database.transaction() as session:
        return list(session.scalars(select(TelecommandHistory).where(
            TelecommandHistory.telecommand_id == command_id).order_by(TelecommandHistory.id)))


def uplinked(database, command_id) -> UplinkedCommand | None:
    with database.transaction() as session:
        return session.get(UplinkedCommand, str(command_id))


def set_passes(database, *windows) -> None:
    with database.transaction() as session:
        passes.replace(session, SPACECRAFT_TARGET_ID, list(windows))


def transmitted_at(database, command_id):
    return next(h.at for h in history(database, command_id) if h.to_status == "TRANSMITTED")


def test_a_time_tagged_command_waits_ready_and_cancellable_until_its_time(
        database, make_worker, running, settle):
    not_before = utcnow() + timedelta(seconds=1.5)
    kept, cancelled = gen_command(database), gen_command(database)
    tag(database, kept, not_before=not_before)
    tag(database, cancelled, not_before=not_before)
    worker = make_worker()
    worker.run_once()
    worker.run_once()
    waiting = row(database, kept)
    assert waiting.status == Status.READY and waiting.transmit_at == not_before
    assert waiting.next_step_at == not_before and uplinked(database, kept) is None
    with database.transaction() as session:
        assert lifecycle.transition(session, cancelled, Status.READY, Status.CANCELLED,
                                    actor="op")
    with running(worker):
        settle(database, timeout=30)
    assert row(database, kept).status == Status.EXECUTED
    assert transmitted_at(database, kept) >= not_before
    assert uplinked(database, cancelled) is None
    assert history_problems(database) == []


def test_a_command_outside_its_targets_pass_waits_for_it_and_goes_inside_it(
        database, make_worker, running, settle):
    start = utcnow() + timedelta(seconds=1.5)
    end = start + timedelta(seconds=30)
    set_passes(database, (utcnow() - timedelta(hours=1), utcnow() - timedelta(minutes=50)),
               (start, end))
    command_id = gen_command(database)
    worker = make_worker()
    worker.run_once()  # scheduled now (no delay)
    worker.run_once()  # due, but outside a pass: moved to the next one, not transmitted
    held = row(database, command_id)
    assert (held.status, held.transmit_at, held.next_step_at, held.lease_owner) == \
        (Status.READY, start, start, None)
    assert uplinked(database, command_id) is None
    with running(worker):
        settle(database, timeout=30)
    assert start <= transmitted_at(database, command_id) < end
    assert row(database, command_id).status == Status.EXECUTED


def test_a_command_inside_its_targets_pass_goes_at_once(database, make_worker, running, settle):
    set_passes(database, (utcnow() - timedelta(minutes=1), utcnow() + timedelta(minutes=10)))
    command_id = gen_command(database)
    with running(make_worker()):
        settle(database, timeout=30)
    assert row(database, command_id).status == Status.EXECUTED


def test_a_ready_command_past_its_expiry_ends_failed_expired(database, make_worker):
    late = gen_command(database)
    tag(database, late, not_before=utcnow() + timedelta(minutes=5),
        expires_at=utcnow() + timedelta(seconds=0.3))
    untagged = gen_command(database)
    worker = make_worker()
    worker.run_once()
    assert row(database, late).status == Status.READY
    time.sleep(0.4)
    worker.run_once()
    failed = row(database, late)
    assert (failed.status, failed.status_reason, failed.next_step_at) == \
        (Status.FAILED, "expired", None)
    assert [(h.from_status, h.to_status, h.reason) for h in history(database, late)] == \
        [(None, "READY", None), ("READY", "FAILED", "expired")]
    assert uplinked(database, late) is None
    assert row(database, untagged).status != Status.FAILED


def test_a_command_whose_pass_comes_after_its_expiry_waits_and_expires(database, make_worker):
    set_passes(database, (utcnow() + timedelta(hours=1), utcnow() + timedelta(hours=2)))
    command_id = gen_command(database)
    tag(database, command_id, expires_at=utcnow() + timedelta(seconds=0.5))
    worker = make_worker()
    worker.run_once()
    worker.run_once()
    parked = row(database, command_id)
    assert (parked.status, parked.next_step_at, parked.lease_owner) == (Status.READY, None, None)
    next_wakeup = worker.run_once()[1]
    assert next_wakeup is not None and next_wakeup <= parked.expires_at  # wakes for the expiry
    time.sleep(0.6)
    worker.run_once()
    assert (row(database, command_id).status, row(database, command_id).status_reason) == \
        (Status.FAILED, "expired")


def test_new_passes_reschedule_a_command_that_waits_for_none(
        database, make_worker, running, settle):
    set_passes(database, (utcnow() - timedelta(hours=2), utcnow() - timedelta(hours=1)))
    command_id = gen_command(database)
    worker = make_worker()
    worker.run_once()
    worker.run_once()
    assert row(database, command_id).next_step_at is None  # no contact planned: parked
    set_passes(database, (utcnow() - timedelta(seconds=1), utcnow() + timedelta(minutes=5)))
    assert row(database, command_id).transmit_at is None  # drawn anew
    with running(worker):
        settle(database, timeout=30)
    assert row(database, command_id).status == Status.EXECUTED


def test_a_command_cancelled_before_its_expiry_sweep_stays_cancelled(database, make_worker):
    command_id = gen_command(database)
    tag(database, command_id, not_before=utcnow() + timedelta(minutes=5),
        expires_at=utcnow() + timedelta(seconds=0.2))
    with database.transaction() as session:
        assert lifecycle.transition(session, command_id, Status.READY, Status.CANCELLED,
                                    actor="op")
    time.sleep(0.3)
    make_worker().run_once()
    assert row(database, command_id).status == Status.CANCELLED
    assert [h.to_status for h in history(database, command_id)] == ["READY", "CANCELLED"]
