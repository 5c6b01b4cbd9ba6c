"""The worker and two-person approval: it never sends a command AWAITING_APPROVAL, and its
pass ends the requests older than APPROVAL_TIMEOUT_S CANCELLED "approval expired"."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from mission_control.models import Telecommand, UplinkedCommand
from mission_control.status import Status
from mission_control.testing import gen_command, history_problems
from mission_control.timeutil import utcnow


def _row(database, command_id) -> Telecommand:
    with database.transaction() as session:
        return session.get(Telecommand, command_id)


def test_a_pass_expires_old_requests_and_sends_none_awaiting_approval(database, make_worker):
    old = gen_command(database, status=Status.AWAITING_APPROVAL, command_name="REBOOT",
                      confirmed_by="tester")
    fresh = gen_command(database, status=Status.AWAITING_APPROVAL, command_name="REBOOT",
                        confirmed_by="tester")
    with database.transaction() as session:
        session.execute(update(Telecommand).where(Telecommand.id == old)
                        .values(created_at=utcnow() - timedelta(seconds=120)))
    worker = make_worker(approval_timeout_s=60, max_transmit_delay_s=0)

    for _ in range(3):
        worker.run_once()

    expired, waiting = _row(database, old), _row(database, fresh)
    assert (expired.status, expired.status_reason) == ("CANCELLED", "approval expired")
    assert (waiting.status, waiting.transmit_at, waiting.lease_owner) == (
        "AWAITING_APPROVAL", None, None)
    with database.transaction() as session:
        assert session.get(UplinkedCommand, str(fresh)) is None
    assert history_problems(database) == []
