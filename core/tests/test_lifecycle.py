import itertools
import threading

import pytest
from sqlalchemy import select

from mission_control import lifecycle
from mission_control.status import ALLOWED, FINAL, INITIAL, IllegalTransition, Status
from mission_control.models import Telecommand, TelecommandHistory

from mission_control.testing import gen_command

ALLOWED_PAIRS = sorted((s, t) for s, targets in ALLOWED.items() for t in targets)
FORBIDDEN_PAIRS = [(s, t) for s, t in itertools.product(Status, Status) if t not in ALLOWED[s]]


def test_the_lifecycle_is_the_documented_one():
    assert set(ALLOWED_PAIRS) == {
        (Status.AWAITING_APPROVAL, Status.READY), (Status.AWAITING_APPROVAL, Status.CANCELLED),
        (Status.READY, Status.TRANSMITTED), (Status.READY, Status.CANCELLED),
        (Status.READY, Status.FAILED),  # expired (time tags)
        (Status.TRANSMITTED, Status.ACKNOWLEDGED), (Status.TRANSMITTED, Status.FAILED),
        (Status.ACKNOWLEDGED, Status.EXECUTED), (Status.ACKNOWLEDGED, Status.FAILED)}
    assert FINAL == {Status.EXECUTED, Status.FAILED, Status.CANCELLED}
    assert INITIAL == {Status.AWAITING_APPROVAL, Status.READY}


def test_a_command_is_created_in_an_initial_status_only(database):
    command_id = gen_command(database)
    with database.transaction() as session:
        with pytest.raises(IllegalTransition):
            lifecycle.record_creation(session, command_id, actor="t", status=Status.TRANSMITTED)


@pytest.mark.parametrize("source,target", ALLOWED_PAIRS, ids=lambda s: str(s))
def test_allowed_transition_changes_status_and_appends_history(database, source, target):
    command_id = gen_command(database, status=source)
    with database.transaction() as session:
        assert lifecycle.transition(session, command_id, source, target, actor="t", reason="why")
    with database.transaction() as session:
        command = session.get(Telecommand, command_id)
        assert command.status == target
        last = session.scalars(select(TelecommandHistory).where(
            TelecommandHistory.telecommand_id == command_id).order_by(TelecommandHistory.id)).all()[-1]
        assert (last.from_status, last.to_status, last.actor, last.reason) == (source, target, "t", "why")
        assert last.at.tzinfo is not None
        if target in FINAL:
            assert command.lease_owner is None and command.next_step_at is None


@pytest.mark.parametrize("source,target", FORBIDDEN_PAIRS, ids=lambda s: str(s))
def test_forbidden_transition_is_refused_before_touching_the_database(source, target):
    with pytest.raises(IllegalTransition):
        lifecycle.transition(None, None, source, target, actor="t")


def test_transition_from_a_status_the_command_is_not_in_changes_nothing(database):
    command_id = gen_command(database, status=Status.CANCELLED)
    with database.transaction() as session:
        assert not lifecycle.transition(session, command_id, Status.READY, Status.TRANSMITTED, actor="t")
    with database.transaction() as session:
        assert session.get(Telecommand, command_id).status == Status.CANCELLED
        assert len(session.scalars(select(TelecommandHistory).where(
            TelecommandHistory.telecommand_id == command_id)).all()) == 1


def test_concurrent_cancel_and_transmit_have_exactly_one_winner(database):
    ids = [gen_command(database) for _ in range(30)]
    outcomes: dict = {}
    barrier = threading.Barrier(2)

    def race(target):
        barrier.wait()
        for command_id in ids:
            with database.transaction() as session:
                if lifecycle.transition(session, command_id, Status.READY, target, actor=str(target)):
                    outcomes.setdefault(command_id, []).append(target)

    threads = [threading.Thread(target=race, args=(t,)) for t in (Status.CANCELLED, Status.TRANSMITTED)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(len(outcomes[i]) == 1 for i in ids)
    with database.transaction() as session:
        for command_id in ids:
            rows = session.scalars(select(TelecommandHistory).where(
                TelecommandHistory.telecommand_id == command_id).order_by(TelecommandHistory.id)).all()
            assert len(rows) == 2
            assert rows[1].to_status == outcomes[command_id][0]
