import random
import socket
import threading
from datetime import timedelta

from sqlalchemy import select, update

from mission_control import lifecycle
from mission_control.status import FINAL, Status
from mission_control.models import Telecommand, TelecommandHistory, UplinkedCommand
from mission_control.testing import gen_command, history_problems
from mission_control.timeutil import utcnow


def statuses(database, command_id):
    with database.transaction() as session:
        rows = session.scalars(select(TelecommandHistory).where(
            TelecommandHistory.telecommand_id == command_id).order_by(TelecommandHistory.id)).all()
        return [r.to_status for r in rows], rows


def command(database, command_id) -> Telecommand:
    with database.transaction() as session:
        return session.get(Telecommand, command_id)


def uplinked(database, command_id) -> UplinkedCommand | None:
    with database.transaction() as session:
        return session.get(UplinkedCommand, str(command_id))


def test_ready_command_goes_through_every_stage_to_executed(database, make_worker, running, settle):
    command_id = gen_command(database, command_name="CAPTURE_IMAGE", args={"exposure_ms": 10})
    worker = make_worker()
    with running(worker):
        settle(database)
    path, rows = statuses(database, command_id)
    assert path == ["READY", "TRANSMITTED", "ACKNOWLEDGED", "EXECUTED"]
    assert all(r.actor == worker.worker_id for r in rows[1:])
    assert uplinked(database, command_id).executions == 1
    assert command(database, command_id).lease_owner is None


def test_a_new_command_gets_a_transmit_time_and_stays_cancellable_until_then(database, make_worker):
    command_id = gen_command(database)
    worker = make_worker(max_transmit_delay_s=60)
    before = utcnow()
    worker.run_once()
    scheduled = command(database, command_id)
    assert scheduled.status == Status.READY
    assert before <= scheduled.transmit_at <= utcnow() + timedelta(seconds=60)
    assert scheduled.next_step_at == scheduled.transmit_at and scheduled.lease_owner is None
    with database.transaction() as session:
        assert lifecycle.transition(session, command_id, Status.READY, Status.CANCELLED, actor="op")
    assert uplinked(database, command_id) is None


def test_transmit_times_are_spread_over_the_whole_window(database, make_worker):
    ids = [gen_command(database) for _ in range(60)]
    make_worker(max_transmit_delay_s=100).run_once()
    now = utcnow()
    offsets = [(command(database, i).transmit_at - now).total_seconds() for i in ids]
    assert min(offsets) < 30 and max(offsets) > 70 and all(-5 < o <= 100 for o in offsets)


def test_target_failure_is_recorded_with_its_reason(database, make_worker, running, settle):
    from spacecraft.app import create_app  # noqa: F401  (the fixture's app has rate 0; make one fail)
    command_id = gen_command(database, command_name="DEPLOY_SOLAR_ARRAY", confirmed_by="alice")
    second = gen_command(database, command_name="DEPLOY_SOLAR_ARRAY", confirmed_by="alice")
    with running(make_worker()):
        settle(database)
    outcomes = sorted([command(database, command_id).status, command(database, second).status])
    assert outcomes == ["EXECUTED", "FAILED"]
    failed = command_id if command(database, command_id).status == "FAILED" else second
    assert "already deployed" in command(database, failed).status_reason
    assert statuses(database, failed)[0] == ["READY", "TRANSMITTED", "ACKNOWLEDGED", "FAILED"]


def test_unreachable_target_ends_failed_after_bounded_retries(database, make_worker, running, settle):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead_port = sock.getsockname()[1]
    command_id = gen_command(database)
    with running(make_worker(spacecraft_url=f"http://127.0.0.1:{dead_port}", max_send_attempts=3)):
        settle(database, timeout=30)
    failed = command(database, command_id)
    assert failed.status == Status.FAILED
    assert "gave up after 3 attempts" in failed.status_reason
    assert "ConnectionError" in failed.status_reason
    assert statuses(database, command_id)[0] == ["READY", "TRANSMITTED", "FAILED"]


def test_target_that_accepts_but_never_answers_times_out_and_fails(database, make_worker, running, settle):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(50)  # accepts connections, never replies
    try:
        command_id = gen_command(database)
        with running(make_worker(spacecraft_url=f"http://127.0.0.1:{listener.getsockname()[1]}",
                                 max_send_attempts=2, uplink_timeout_s=0.3)):
            settle(database, timeout=30)
    finally:
        listener.close()
    failed = command(database, command_id)
    assert failed.status == Status.FAILED and "Timeout" in failed.status_reason


def test_command_the_target_refuses_fails_with_the_targets_message(database, make_worker, running, settle):
    command_id = gen_command(database, command_name="SET_HEATER", args={"on": "maybe"})
    with running(make_worker()):
        settle(database)
    failed = command(database, command_id)
    assert failed.status == Status.FAILED
    assert "HTTP 422" in failed.status_reason and "on" in failed.status_reason


def test_expired_lease_of_a_dead_worker_is_taken_over(database, make_worker, running, settle):
    command_id = gen_command(database, status=Status.TRANSMITTED)
    with database.transaction() as session:
        expired = utcnow() - timedelta(seconds=1)  # a held row is due when its lease expires
        session.execute(update(Telecommand).where(Telecommand.id == command_id).values(
            next_step_at=expired, lease_owner="dead-worker", lease_expires_at=expired))
    with running(make_worker()):
        settle(database)
    assert command(database, command_id).status == Status.EXECUTED
    assert uplinked(database, command_id).executions == 1


def test_expired_leases_are_looked_for_only_when_asked(database):
    from command_sender import claims

    command_id = gen_command(database, status=Status.ACKNOWLEDGED)
    expired = utcnow() - timedelta(seconds=1)
    with database.transaction() as session:
        session.execute(update(Telecommand).where(Telecommand.id == command_id).values(
            next_step_at=expired, lease_owner="dead-worker", lease_expires_at=expired))
    with database.transaction() as session:
        assert claims.claim_due(session, "me", 10, 5, take_over=False) == []
    with database.transaction() as session:
        [claimed] = claims.claim_due(session, "me", 10, 5, take_over=True)
    assert (claimed.id, claimed.status, claimed.target_kind) == (
        command_id, Status.ACKNOWLEDGED, "spacecraft")
    assert command(database, command_id).lease_owner == "me"


def test_a_live_lease_is_left_alone(database, make_worker):
    command_id = gen_command(database, status=Status.TRANSMITTED)
    with database.transaction() as session:
        held_until = utcnow() + timedelta(minutes=5)
        session.execute(update(Telecommand).where(Telecommand.id == command_id).values(
            next_step_at=held_until, lease_owner="other-worker", lease_expires_at=held_until))
    worker = make_worker()
    worker.run_once()
    worker.close()
    assert command(database, command_id).status == Status.TRANSMITTED
    assert command(database, command_id).lease_owner == "other-worker"
    assert uplinked(database, command_id) is None


def test_clean_stop_releases_the_leases_it_holds(database, make_worker):
    command_id = gen_command(database, status=Status.ACKNOWLEDGED)
    with database.transaction() as session:
        session.execute(update(Telecommand).where(Telecommand.id == command_id).values(
            next_step_at=utcnow() + timedelta(minutes=5), lease_owner="me", lease_expires_at=utcnow() + timedelta(minutes=5)))
    worker = make_worker(worker_id=None)
    with database.transaction() as session:
        session.execute(update(Telecommand).values(lease_owner=worker.worker_id))
    worker.stop()
    worker.run()
    assert command(database, command_id).lease_owner is None


def test_two_replicas_share_the_work_and_nothing_runs_twice(database, make_worker, running, settle):
    ids = [gen_command(database) for _ in range(200)]
    first, second = make_worker(), make_worker()
    with running(first, second):
        settle(database)
    with database.transaction() as session:
        executed = session.scalars(select(UplinkedCommand)).all()
        actors = set(session.scalars(select(TelecommandHistory.actor).where(
            TelecommandHistory.to_status == "EXECUTED")).all())
    assert len(executed) == len(ids)
    assert all(c.executions == 1 for c in executed)
    assert all(command(database, i).status == Status.EXECUTED for i in ids)
    assert actors <= {first.worker_id, second.worker_id}
    assert history_problems(database) == []


def test_cancels_racing_workers_leave_exactly_one_outcome_each(database, make_worker, running, settle):
    """Many operators cancel while two workers transmit the same commands."""
    ids = [gen_command(database) for _ in range(300)]
    cancelled_by_us: set = set()
    lock = threading.Lock()

    def operator(seed: int) -> None:
        rng = random.Random(seed)
        for command_id in rng.sample(ids, len(ids) // 2):
            with database.transaction() as session:
                if lifecycle.transition(session, command_id, Status.READY, Status.CANCELLED,
                                        actor=f"operator-{seed}"):
                    with lock:
                        assert command_id not in cancelled_by_us
                        cancelled_by_us.add(command_id)

    operators = [threading.Thread(target=operator, args=(seed,)) for seed in range(6)]
    with running(make_worker(max_transmit_delay_s=0.3), make_worker(max_transmit_delay_s=0.3)):
        for thread in operators:
            thread.start()
        for thread in operators:
            thread.join()
        settle(database)
    assert history_problems(database) == []
    with database.transaction() as session:
        final = {c.id: c.status for c in session.scalars(select(Telecommand))}
        received = {u.id: u.executions for u in session.scalars(select(UplinkedCommand))}
    assert all(Status(s) in FINAL for s in final.values())
    assert {i for i, s in final.items() if s == Status.CANCELLED} == cancelled_by_us
    assert 0 < len(cancelled_by_us) < len(ids)
    for command_id, status in final.items():
        if status == Status.CANCELLED:
            assert str(command_id) not in received, "a cancelled command reached the target"
        else:
            assert status == Status.EXECUTED and received[str(command_id)] == 1
