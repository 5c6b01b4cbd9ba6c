"""kill -9 the worker with hundreds of commands in flight; a restarted one finishes them all."""

import pytest
from sqlalchemy import func, select

from mission_control.status import ACTIVE, FINAL
from mission_control.models import Telecommand, UplinkedCommand
from mission_control.testing import history_problems

from .harness import wait_for

COUNT = 300

pytestmark = pytest.mark.local_only("kills the worker with SIGKILL and restarts it, with short "
                                    "leases, and counts every command in the database")


def count(database, *conditions):
    with database.transaction() as session:
        return session.scalar(select(func.count()).select_from(Telecommand).where(*conditions))


def test_killed_worker_loses_nothing_and_nothing_runs_twice(database, system_factory):
    system = system_factory(max_transmit_delay_s=3, max_stage_delay_s=1, lease_s=2,
                            execution_failure_rate=0.1)
    with system.session("operator") as http:
        for n in range(COUNT):
            response = http.post(f"{system.ground_url}/api/telecommands", timeout=10,
                                 json={"command_name": "CAPTURE_IMAGE", "args": {"exposure_ms": n + 1}})
            assert response.status_code == 201
    in_flight = [s.value for s in ACTIVE if s.value != "READY"]
    wait_for(lambda: count(database, Telecommand.status.in_(in_flight)) >= 20, timeout=30,
             interval=0.02, message="commands in flight")
    system.kill("command-sender")
    active_at_crash = count(database, Telecommand.status.in_([s.value for s in ACTIVE]))
    leased_at_crash = count(database, Telecommand.lease_owner.is_not(None))
    assert active_at_crash > 0

    system.start("command-sender", instance="command-sender-restarted")
    wait_for(lambda: count(database, Telecommand.status.in_([s.value for s in ACTIVE])) == 0,
             timeout=120, interval=0.2, message="every command final after the restart")

    assert count(database, Telecommand.status.in_([s.value for s in FINAL])) == COUNT
    assert history_problems(database) == []
    with database.transaction() as session:
        executions = session.scalars(select(UplinkedCommand.executions)).all()
        receipts = session.scalar(select(func.sum(UplinkedCommand.receipts)))
    assert len(executions) == COUNT and set(executions) == {1}
    print(f"at the crash: {active_at_crash} active, {leased_at_crash} leased; "
          f"{receipts - COUNT} re-sends after the restart")
