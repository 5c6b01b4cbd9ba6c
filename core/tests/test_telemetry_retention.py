"""Telemetry housekeeping on both databases: partitions made ahead and dropped when old on
PostgreSQL (a point of a day without a partition is never refused), bounded deletes on SQLite."""

from __future__ import annotations

from datetime import timedelta

import pytest

from sqlalchemy import func, select, text

from mission_control import telemetry
from mission_control.telemetry_housekeeping import housekeep
from mission_control.telemetry_models import TelemetryPoint
from mission_control.telemetry_partitions import (
    create_partition, delete_older_sqlite, partition_days, partition_name,
)
from mission_control.timeutil import utcnow


def store(database, *times, parameter: str = "temperature") -> None:
    rows = [{"source": "spacecraft", "parameter": parameter, "value": 1.0, "unit": None,
             "time": at} for at in times]
    with database.transaction() as session:
        telemetry.store(session, rows)


def kept(database) -> list:
    with database.transaction() as session:
        return list(session.scalars(select(TelemetryPoint.time).order_by(TelemetryPoint.time)))


def test_points_older_than_the_retention_go_and_recent_ones_stay(database):
    now = utcnow()
    old, recent = now - timedelta(days=40), now - timedelta(days=10)
    if database.is_postgresql:
        with database.begin() as connection:
            create_partition(connection, old.date())
            create_partition(connection, recent.date())
    store(database, old, old + timedelta(minutes=1), now - timedelta(days=45), recent, now)
    done = housekeep(database, retention_days=30, now=now)
    assert kept(database) == [recent, now]
    if database.is_postgresql:
        assert done["dropped"] == [partition_name(old.date())]
        assert done["deleted"] == 1  # the point of a day without a partition (default)
        with database.begin() as connection:
            days = partition_days(connection)
        assert old.date() not in days and recent.date() in days
    else:
        assert done["deleted"] == 3


def test_housekeeping_makes_the_coming_days_partitions_and_moves_their_points(database):
    if not database.is_postgresql:
        assert housekeep(database, retention_days=30)["created"] == []
        return
    now = utcnow()
    far = now + timedelta(days=9)  # no partition yet: the default partition takes it
    store(database, far)
    done = housekeep(database, retention_days=30, now=now + timedelta(days=2))
    assert partition_name(far.date()) in done["created"]
    with database.begin() as connection:
        days = partition_days(connection)
        moved = connection.scalar(text(f"SELECT count(*) FROM {partition_name(far.date())}"))
    assert [now.date() + timedelta(days=d) for d in range(2, 10)] == \
        [day for day in days if day >= now.date() + timedelta(days=2)]
    assert moved == 1 and kept(database) == [far]
    assert housekeep(database, retention_days=30, now=now + timedelta(days=2))["created"] == []


def test_sqlite_deletes_old_points_in_bounded_batches(database):
    if database.is_postgresql:
        pytest.skip("PostgreSQL drops whole partitions instead (above)")
    now = utcnow()
    old = [now - timedelta(days=31, seconds=s) for s in range(7)]
    store(database, *old, now)
    store(database, *old[:3], parameter="battery")
    cutoff = now - timedelta(days=30)
    assert delete_older_sqlite(database, cutoff, batch=2) == 10
    assert kept(database) == [now]
    with database.transaction() as session:
        assert session.scalar(select(func.count()).select_from(TelemetryPoint)) == 1
