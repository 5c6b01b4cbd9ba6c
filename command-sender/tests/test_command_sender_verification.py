"""Verification from telemetry: a command with a verifier ends EXECUTED only when the telemetry
store shows its condition after ACKNOWLEDGED, FAILED "not verified" when the window passes."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from mission_control import telemetry
from mission_control.catalog import CATALOG
from mission_control.models import Telecommand, TelecommandHistory, UplinkedCommand
from mission_control.status import Status
from mission_control.testing import gen_command
from mission_control.timeutil import utcnow
from mission_control.verifiers import Verifier


def point(database, value: float, at, parameter: str = "heater") -> None:
    with database.transaction() as session:
        telemetry.store(session, [{"source": "spacecraft", "parameter": parameter,
                                   "value": value, "unit": None, "time": at}])


def row(database, command_id) -> Telecommand:
    with database.transaction() as session:
        return session.get(Telecommand, command_id)


def path(database, command_id) -> list[str]:
    with database.transaction() as session:
        return list(session.scalars(select(TelecommandHistory.to_status).where(
            TelecommandHistory.telecommand_id == command_id).order_by(TelecommandHistory.id)))


@pytest.fixture
def short_window(monkeypatch):
    """SET_HEATER's verifier with a window of half a second, for the tests that let it pass."""
    spec = CATALOG["spacecraft"]["SET_HEATER"]
    monkeypatch.setitem(CATALOG["spacecraft"], "SET_HEATER",
                        replace(spec, verifier=replace(spec.verifier, within_s=0.5)))


def test_set_heater_is_executed_when_the_heater_reads_on(database, make_worker, running, settle):
    point(database, 0.0, utcnow() - timedelta(seconds=5))  # before the command: not counted
    seen_at = utcnow() + timedelta(seconds=1)
    point(database, 1.0, seen_at)
    command_id = gen_command(database, command_name="SET_HEATER", args={"on": True})
    with running(make_worker()):
        settle(database, timeout=20)
    done = row(database, command_id)
    assert done.status == Status.EXECUTED
    assert done.status_reason == f"verified: heater=1.0 at {seen_at.isoformat()}"
    assert done.verified_value == 1.0 and done.verified_at == seen_at
    assert done.verifying_since is not None and done.lease_owner is None
    assert path(database, command_id) == ["READY", "TRANSMITTED", "ACKNOWLEDGED", "EXECUTED"]


def test_the_value_comes_from_the_argument(database, make_worker, running, settle):
    point(database, 1.0, utcnow() + timedelta(seconds=1))  # on: not what "off" waits for
    point(database, 0.0, utcnow() + timedelta(seconds=2))
    command_id = gen_command(database, command_name="SET_HEATER", args={"on": False})
    with running(make_worker()):
        settle(database, timeout=20)
    done = row(database, command_id)
    assert done.status == Status.EXECUTED and done.verified_value == 0.0


def test_no_matching_telemetry_in_the_window_fails_not_verified(
        database, make_worker, running, settle, short_window):
    point(database, 0.0, utcnow() + timedelta(seconds=0.2))
    command_id = gen_command(database, command_name="SET_HEATER", args={"on": True})
    with running(make_worker()):
        settle(database, timeout=20)
    failed = row(database, command_id)
    assert failed.status == Status.FAILED
    assert failed.status_reason == \
        "not verified: heater == 1 not seen within 0.5 s (last value 0.0)"
    assert failed.verified_value == 0.0
    assert path(database, command_id) == ["READY", "TRANSMITTED", "ACKNOWLEDGED", "FAILED"]
    with database.transaction() as session:  # the target did execute it, once
        assert session.get(UplinkedCommand, str(command_id)).executions == 1
    # The window is measured from ACKNOWLEDGED: not before it closed (plus the ingest grace).
    with database.transaction() as session:
        acknowledged, failed_at = session.scalars(
            select(TelecommandHistory.at).where(TelecommandHistory.telecommand_id == command_id,
                                                TelecommandHistory.to_status.in_(
                                                    ["ACKNOWLEDGED", "FAILED"]))
            .order_by(TelecommandHistory.id)).all()
    assert (failed_at - acknowledged).total_seconds() >= 0.5


def test_no_telemetry_at_all_says_so(database, make_worker, running, settle, short_window):
    command_id = gen_command(database, command_name="SET_HEATER", args={"on": True})
    with running(make_worker()):
        settle(database, timeout=20)
    failed = row(database, command_id)
    assert failed.status == Status.FAILED and failed.verified_value is None
    assert failed.status_reason == "not verified: heater == 1 not seen within 0.5 s (no value seen)"


def test_a_command_without_a_verifier_is_unaffected(database, make_worker, running, settle):
    command_id = gen_command(database, command_name="CAPTURE_IMAGE", args={"exposure_ms": 10})
    with running(make_worker()):
        settle(database, timeout=20)
    done = row(database, command_id)
    assert done.status == Status.EXECUTED and done.status_reason is None
    assert done.verifying_since is None and done.verified_value is None


def test_a_verifying_command_is_checked_in_the_loop_without_asking_the_target(
        database, make_worker):
    """A worker died after the target reported EXECUTED: whoever claims the row checks the
    telemetry (the target, which never saw this id, is not asked: it would fail it)."""
    command_id = gen_command(database, command_name="SET_HEATER", args={"on": True},
                             status=Status.ACKNOWLEDGED)
    now = utcnow()
    with database.transaction() as session:
        session.execute(update(Telecommand).where(Telecommand.id == command_id).values(
            verifying_since=now, next_step_at=now, lease_owner="command-sender@dead",
            lease_expires_at=now - timedelta(seconds=1)))
    point(database, 1.0, now + timedelta(seconds=0.1))
    worker = make_worker()
    worker.run_once()
    done = row(database, command_id)
    assert done.status == Status.EXECUTED and done.verified_value == 1.0
    with database.transaction() as session:
        assert session.get(UplinkedCommand, str(command_id)) is None


def test_waiting_for_telemetry_is_rescheduled_not_polled_in_a_loop(database, make_worker):
    command_id = gen_command(database, command_name="SET_HEATER", args={"on": True},
                             status=Status.ACKNOWLEDGED)
    now = utcnow()
    with database.transaction() as session:
        session.execute(update(Telecommand).where(Telecommand.id == command_id).values(
            verifying_since=now, next_step_at=now))
    worker = make_worker(poll_interval_s=0.5)
    busy, next_wakeup = worker.run_once()
    waiting = row(database, command_id)
    assert waiting.status == Status.ACKNOWLEDGED and waiting.lease_owner is None
    assert not busy and waiting.next_step_at == next_wakeup
    assert 0.4 <= (waiting.next_step_at - now).total_seconds() <= 1.5


def test_a_verifier_needs_exactly_one_value_source():
    with pytest.raises(ValueError):
        Verifier("heater", "==")
    with pytest.raises(ValueError):
        Verifier("heater", "==", value=1, value_from="on")
    with pytest.raises(ValueError):
        Verifier("heater", "=~", value=1)
    assert Verifier("battery", ">=", value=95.5).condition({}) == "battery >= 95.5"
