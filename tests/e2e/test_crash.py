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


STACKS, STEPS = 12, 5


def test_killed_worker_mid_stack_loses_no_step_and_runs_none_twice(database, system_factory):
    from mission_control.stack_models import SENT, SKIPPED, Stack, StackStep
    from mission_control.models import TelecommandHistory
    from mission_control.stacks import REACHED

    system = system_factory(max_transmit_delay_s=0, max_stage_delay_s=0.3, lease_s=2,
                            execution_failure_rate=0.2)
    with system.session("operator") as http:
        for n in range(STACKS):
            steps = [{"command_name": "CAPTURE_IMAGE", "args": {"exposure_ms": n * STEPS + k + 1},
                      "wait_for": "EXECUTED" if k % 2 else "ACKNOWLEDGED"} for k in range(STEPS)]
            response = http.post(f"{system.ground_url}/api/stacks", timeout=10, json={
                "target": "spacecraft", "steps": steps,
                "on_failure": "continue" if n % 2 else "stop"})
            assert response.status_code == 201
    wait_for(lambda: count(database, Telecommand.stack_id.is_not(None)) >= STACKS * 2,
             timeout=60, interval=0.02, message="stacks under way")
    system.kill("command-sender")
    sent_at_crash = count(database, Telecommand.stack_id.is_not(None))
    assert sent_at_crash < STACKS * STEPS

    system.start("command-sender", instance="command-sender-restarted")

    def running():
        with database.transaction() as session:
            return session.scalar(select(func.count()).select_from(Stack)
                                  .where(Stack.status == "RUNNING"))
    wait_for(lambda: running() == 0, timeout=180, interval=0.2, message="every stack final")

    with database.transaction() as session:
        stacks = session.scalars(select(Stack)).all()
        steps = session.scalars(select(StackStep).order_by(StackStep.position)).all()
        commands = {c.id: c for c in session.scalars(select(Telecommand))}
        history = session.scalars(select(TelecommandHistory)
                                  .order_by(TelecommandHistory.id)).all()
        executions = dict(session.execute(select(UplinkedCommand.id,
                                                 UplinkedCommand.executions)).all())
    reached: dict = {}
    by_stack: dict = {}
    for step in steps:
        by_stack.setdefault(step.stack_id, []).append(step)
    wait_of = {s.telecommand_id: s.wait_for for s in steps if s.telecommand_id}
    for entry in history:
        if entry.telecommand_id in wait_of and entry.to_status in REACHED[
                wait_of[entry.telecommand_id]]:
            reached.setdefault(entry.telecommand_id, entry.at)
    for stack in stacks:
        mine = by_stack[stack.id]
        states = [s.state for s in mine]
        if stack.on_failure == "continue":
            assert stack.status == "COMPLETED" and states == [SENT] * STEPS
        else:  # sent up to the first unsuccessful step, skipped after it
            statuses = [commands[s.telecommand_id].status for s in mine if s.state == SENT]
            failed = [i for i, status in enumerate(statuses) if status != "EXECUTED"]
            expected = STEPS if not failed else failed[0] + 1
            assert len(statuses) >= expected
            assert stack.status == ("FAILED" if failed else "COMPLETED")
            assert set(states[len(statuses):]) <= {SKIPPED}
        for before, after in zip(mine, mine[1:]):
            if after.state == SENT:  # created only once the previous one reached its stage
                assert commands[after.telecommand_id].created_at >= reached[before.telecommand_id]
    assert history_problems(database) == []
    sent = [s.telecommand_id for s in steps if s.state == SENT]
    assert len(set(sent)) == len(sent) == len(commands)
    # Every step's command ran exactly once on the spacecraft (none, if cancelled while READY).
    assert {cid: executions.get(str(cid), 0) for cid in sent} == {
        cid: 0 if commands[cid].status == "CANCELLED" else 1 for cid in sent}
    print(f"at the crash: {sent_at_crash} of {STACKS * STEPS} steps sent; "
          f"{len(sent)} sent in the end")


ROBOTS = 40


def test_killed_worker_mid_batch_loses_no_command_and_runs_none_twice(database, system_factory):
    """A fleet-wide command to 40 simulated robots; the worker is killed while its commands
    are on their way; the restarted one brings every one to a final state, and each robot ran
    its command at most once (robot-server's executions, a CHECK keeps it at 0 or 1)."""
    from mission_control.robot_models import RobotCommand

    from .sim_fleet import SimulatedFleet, add_fleet

    system = system_factory(services=("ground", "command-sender", "robot-server"),
                            max_transmit_delay_s=1, max_stage_delay_s=0.5, lease_s=2,
                            execution_failure_rate=0.1, heartbeat_interval_s=0.5,
                            command_ttl_s=120)
    level_id, robot_ids = add_fleet(database, ROBOTS, prefix="crash-batch", cheap=True)
    fleet = SimulatedFleet(system.robot_server_url, heartbeat_interval_s=0.5,
                           max_stage_delay_s=0.5, execution_failure_rate=0.1)
    try:
        fleet.start(robot_ids)
        wait_for(lambda: fleet.connected() == ROBOTS, timeout=30, interval=0.2,
                 message="the robots' sessions")
        with system.session("operator") as http:
            created = http.post(f"{system.ground_url}/api/batches", timeout=10,
                                json={"command_name": "PING", "selector": {"level_id": level_id}})
        assert created.status_code == 201, created.text
        in_flight = [s.value for s in ACTIVE if s.value not in ("READY", "AWAITING_APPROVAL")]
        wait_for(lambda: count(database, Telecommand.status.in_(in_flight)) >= 5, timeout=30,
                 interval=0.02, message="commands in flight")
        system.kill("command-sender")
        active_at_crash = count(database, Telecommand.status.in_([s.value for s in ACTIVE]))
        assert active_at_crash > 0

        system.start("command-sender", instance="command-sender-restarted")
        wait_for(lambda: count(database, Telecommand.status.in_([s.value for s in ACTIVE])) == 0,
                 timeout=120, interval=0.2, message="every command of the batch final")
    finally:
        fleet.close()

    assert count(database, Telecommand.batch_id.is_not(None)) == ROBOTS
    assert count(database, Telecommand.status.in_([s.value for s in FINAL])) == ROBOTS
    assert history_problems(database) == []
    with database.transaction() as session:
        executions = session.scalars(select(RobotCommand.executions)).all()
    assert len(executions) == ROBOTS and set(executions) <= {0, 1}
    print(f"at the crash: {active_at_crash} of {ROBOTS} commands active")
