"""Limits to alerts on both databases: open once, escalate, clear, persistence, concurrency,
operators' acknowledge / resolve / shelve, and the alerts of failed telecommands."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from mission_control import alerts, lifecycle, limits
from mission_control.alert_models import Alert
from mission_control.evaluate import evaluate
from mission_control.status import Status
from mission_control.testing import gen_command, run_together
from mission_control.timeutil import utcnow

SC = "spacecraft"  # default limits: temperature yellow -10..45, red -20..60


def point(value, parameter="temperature", source=SC, seconds=0.0):
    return {"source": source, "parameter": parameter, "value": value,
            "time": utcnow() + timedelta(seconds=seconds)}


def ingest(database, *points):
    with database.transaction() as session:
        evaluate(session, points)


def all_alerts(database, **where):
    with database.transaction() as session:
        rows = session.scalars(select(Alert).filter_by(**where).order_by(Alert.id)).all()
        session.expunge_all()
        return rows


def open_and_acknowledge(database, value=50.0) -> None:
    ingest(database, point(value))
    [alert] = all_alerts(database)
    with database.transaction() as session:
        alerts.acknowledge(session, alert.id, by="olga", comment=None)


def set_limit(database, **values):
    with database.transaction() as session:
        limits.save(session, [values], by="tester", now=utcnow())


def test_values_inside_the_limits_open_nothing(database):
    ingest(database, point(20.0), point(44.9), point(-9.0, seconds=1))
    assert all_alerts(database) == []


def test_a_crossing_opens_one_alert_naming_value_limit_and_time(database):
    ingest(database, point(50.0))
    ingest(database, point(51.0))
    [alert] = all_alerts(database)
    assert (alert.source, alert.parameter, alert.kind) == (SC, "temperature", "limit")
    assert (alert.severity, alert.state, alert.cleared) == ("warning", "open", False)
    assert (alert.value, alert.limit_crossed, alert.limit_value) == (50.0, "yellow_high", 45.0)
    assert "yellow_high" in alert.message and "50" in alert.message
    assert alert.opened_at is not None


def test_a_worse_value_raises_the_severity_of_the_same_alert(database):
    ingest(database, point(50.0))
    ingest(database, point(65.0))
    ingest(database, point(50.0))  # better again: stays critical
    [alert] = all_alerts(database)
    assert (alert.severity, alert.value, alert.limit_crossed) == ("critical", 65.0, "red_high")


def test_back_inside_the_limits_clears_and_acknowledgement_then_resolves(database):
    ingest(database, point(-25.0))
    ingest(database, point(20.0))
    [alert] = all_alerts(database)
    assert (alert.state, alert.cleared, alert.limit_crossed) == ("open", True, "red_low")
    assert alert.cleared_at is not None
    with database.transaction() as session:
        acked = alerts.acknowledge(session, alert.id, by="olga", comment="seen")
        assert (acked.state, acked.acknowledged_by, acked.resolved_by) == \
            ("resolved", "olga", "olga")


def test_an_acknowledged_alert_that_clears_is_resolved_by_the_system(database):
    open_and_acknowledge(database)
    ingest(database, point(20.0))
    [alert] = all_alerts(database)
    assert (alert.state, alert.resolved_by, alert.cleared) == ("resolved", "system", True)
    ingest(database, point(50.0))  # a new crossing: a new alert
    assert [a.state for a in all_alerts(database)] == ["resolved", "open"]


def test_escalation_makes_an_acknowledged_alert_open_again(database):
    open_and_acknowledge(database)
    ingest(database, point(61.0))
    [alert] = all_alerts(database)
    assert (alert.state, alert.severity, alert.acknowledged_by) == ("open", "critical", None)


def test_a_cleared_alert_that_crosses_again_is_active_again(database):
    ingest(database, point(50.0))
    ingest(database, point(20.0))
    ingest(database, point(47.0))
    [alert] = all_alerts(database)
    assert (alert.cleared, alert.value, alert.state) == (False, 47.0, "open")


def test_a_batch_is_taken_in_time_order(database):
    ingest(database, point(20.0, seconds=2), point(70.0, seconds=1))
    [alert] = all_alerts(database)
    assert (alert.severity, alert.cleared) == ("critical", True)


def test_persistence_counts_consecutive_samples_across_batches(database):
    set_limit(database, source=SC, parameter="temperature", yellow_high=45.0, persistence=3)
    ingest(database, point(50.0), point(51.0, seconds=1))
    assert all_alerts(database) == []
    ingest(database, point(20.0))  # one inside: the count starts again
    ingest(database, point(50.0), point(51.0, seconds=1))
    assert all_alerts(database) == []
    ingest(database, point(52.0))
    [alert] = all_alerts(database)
    assert alert.value == 52.0 and "3 samples in a row" in alert.message


def test_red_for_too_few_samples_is_yellow(database):
    set_limit(database, source=SC, parameter="temperature", yellow_high=45.0, red_high=60.0,
              persistence=2)
    ingest(database, point(50.0), point(70.0, seconds=1))
    [alert] = all_alerts(database)
    assert (alert.severity, alert.limit_crossed) == ("warning", "yellow_high")
    ingest(database, point(71.0))
    [alert] = all_alerts(database)
    assert (alert.severity, alert.limit_crossed) == ("critical", "red_high")


def test_the_most_specific_limit_applies_and_all_null_switches_limits_off(database):
    set_limit(database, source="*", parameter="pressure", yellow_high=5.0)
    set_limit(database, source="probe-2", parameter="pressure", red_high=9.0)
    ingest(database, point(6.0, "pressure", "probe-1"), point(6.0, "pressure", "probe-2"))
    assert [(a.source, a.severity) for a in all_alerts(database)] == [("probe-1", "warning")]
    set_limit(database, source="kind:spacecraft", parameter="temperature")
    ingest(database, point(99.0))
    assert len(all_alerts(database)) == 1
    with database.transaction() as session:
        assert limits.limit_state(session, SC, "temperature", 99.0) == "ok"
        assert limits.limit_state(session, "probe-2", "pressure", 9.5) == "red"


def test_limit_state_of_the_defaults():
    bounds = limits.DEFAULTS["robot"]["battery"]
    assert [limits.state_of(bounds, v) for v in (50.0, 15.0, 5.0)] == ["ok", "yellow", "red"]
    assert limits.state_of(None, 1e300) == "ok"


def test_a_large_batch_opens_each_alert_once(database):
    points = [point(float(i // 50 % 100), source=f"src-{i % 50}", parameter="load",
                    seconds=i / 1000)
              for i in range(10_000)]
    set_limit(database, source="*", parameter="load", yellow_high=90.0, red_high=98.0)
    ingest(database, *points)
    found = all_alerts(database)
    assert len(found) == 50 and {a.severity for a in found} == {"critical"}


def test_concurrent_evaluations_open_one_alert(database):
    def work(index):
        ingest(database, point(50.0 + index))

    run_together(work, count=6)
    [alert] = all_alerts(database)
    assert alert.severity == "critical" or alert.severity == "warning"
    assert alert.state == "open"


def test_concurrent_acknowledgements_have_one_winner(database):
    ingest(database, point(50.0))
    [alert] = all_alerts(database)

    def work(index):
        with database.transaction() as session:
            alerts.acknowledge(session, alert.id, by=f"op{index}", comment=None)

    run_together(work, count=4)
    [alert] = all_alerts(database)
    assert alert.state == "acknowledged" and alert.acknowledged_by.startswith("op")


def test_shelving_hides_from_the_open_list_and_comes_back_unacknowledged(database):
    ingest(database, point(50.0))
    [alert] = all_alerts(database)
    with database.transaction() as session:
        alerts.acknowledge(session, alert.id, by="olga", comment=None)
        shelved = alerts.shelve(session, alert.id, duration_s=3600, by="olga")
        assert (shelved.state, shelved.acknowledged_by) == ("open", None)
        assert alerts.page(session, state="open", severity=None, limit=10, offset=0)[1] == 0
        assert alerts.page(session, state="shelved", severity=None, limit=10, offset=0)[1] == 1
        assert alerts.open_counts(session) == {}
        session.get(Alert, alert.id).shelved_until = utcnow() - timedelta(seconds=1)
    with database.transaction() as session:
        items, total = alerts.page(session, state="open", severity="warning", limit=10, offset=0)
        assert total == 1 and items[0].state == "open"
        assert alerts.open_counts(session) == {"warning": 1}


def test_an_alert_that_clears_while_shelved_is_resolved(database):
    ingest(database, point(50.0))
    [alert] = all_alerts(database)
    with database.transaction() as session:
        alerts.shelve(session, alert.id, duration_s=60, by="olga")
    ingest(database, point(20.0))
    [alert] = all_alerts(database)
    assert (alert.state, alert.resolved_by) == ("resolved", "system")
    with database.transaction() as session, pytest.raises(alerts.NotShelvable):
        alerts.shelve(session, alert.id, duration_s=60, by="olga")


def test_resolve_records_who_and_when_and_twice_is_harmless(database):
    ingest(database, point(50.0))
    [alert] = all_alerts(database)
    with database.transaction() as session:
        first = alerts.resolve(session, alert.id, by="olga")
        at = first.resolved_at
        again = alerts.resolve(session, alert.id, by="ivan")
        assert (again.state, again.resolved_by, again.resolved_at) == ("resolved", "olga", at)
        with pytest.raises(alerts.AlertNotFound):
            alerts.resolve(session, 999_999, by="olga")


def test_a_telecommand_ending_failed_opens_an_info_alert(database):
    first, second = gen_command(database), gen_command(database)
    with database.transaction() as session:
        lifecycle.transition(session, first, Status.READY, Status.TRANSMITTED, actor="w")
        lifecycle.transition_many(session, Status.TRANSMITTED, Status.FAILED,
                                  {first: "target said no"}, actor="w")
        lifecycle.transition(session, second, Status.READY, Status.CANCELLED, actor="w")
    [alert] = all_alerts(database)
    assert (alert.kind, alert.severity, alert.source, alert.command_id) == \
        ("command", "info", SC, first)
    assert "PING" in alert.message and "target said no" in alert.message
