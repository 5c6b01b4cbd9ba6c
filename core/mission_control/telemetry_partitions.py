"""Telemetry storage over time: PostgreSQL's daily partitions, created ahead and dropped whole
when older than TELEMETRY_RETENTION_DAYS; SQLite's deletes in bounded batches. Run by the
housekeeping (telemetry_housekeeping.py), never by a request.

On PostgreSQL ``telemetry_points`` is partitioned by range on ``time``, one partition a day
(``telemetry_points_pYYYYMMDD``, UTC days), plus a DEFAULT partition: a point of a day that has
no partition (a late backfill, a clock far ahead) lands there, so an ingest never fails for
want of a partition. Creating a day's partition moves that day's rows out of the default one
first (PostgreSQL refuses to attach a range the default partition still holds rows of).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Connection, bindparam, text

from .timeutil import UTCDateTime

PARENT = "telemetry_points"
DEFAULT_PARTITION = "telemetry_points_default"
_DAILY = re.compile(r"telemetry_points_p(\d{8})")
DAYS_AHEAD = 7  # today and the next seven days exist at every housekeeping pass
DELETE_BATCH = 5_000  # SQLite: rows per delete transaction (other writers wait at most that)
# Housekeeping passes of several command-senders take turns (two CREATE TABLEs of one name
# would collide): a transaction-scoped advisory lock, this key.
ADVISORY_LOCK = 0x7E1E_3E7A


def partition_name(day: date) -> str:
    return f"telemetry_points_p{day:%Y%m%d}"


def day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def take_turn(connection: Connection) -> None:
    """Wait for any other housekeeping pass on this database to finish (PostgreSQL)."""
    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK})


def partition_days(connection: Connection) -> list[date]:
    """The days that have a partition, oldest first."""
    names = connection.scalars(text(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = CAST(:parent AS regclass)"), {"parent": PARENT})
    days = []
    for name in names:
        match = _DAILY.fullmatch(name)
        if match:
            days.append(datetime.strptime(match.group(1), "%Y%m%d").date())
    return sorted(days)


def create_partition(connection: Connection, day: date) -> str:
    """Create ``day``'s partition, moving the rows of that day out of the default partition.
    The names and bounds come from a ``date``, never from input."""
    name, start = partition_name(day), day_start(day)
    end = start + timedelta(days=1)
    connection.execute(text(f"CREATE TABLE {name} (LIKE {PARENT} INCLUDING DEFAULTS)"))
    connection.execute(
        text(f"WITH moved AS (DELETE FROM {DEFAULT_PARTITION} WHERE \"time\" >= :start "
             f"AND \"time\" < :end RETURNING source, parameter, \"time\", value, unit) "
             f"INSERT INTO {name} (source, parameter, \"time\", value, unit) "
             f"SELECT source, parameter, \"time\", value, unit FROM moved"),
        {"start": start, "end": end})
    connection.execute(text(f"ALTER TABLE {PARENT} ATTACH PARTITION {name} "
                            f"FOR VALUES FROM ('{start.isoformat()}') TO ('{end.isoformat()}')"))
    return name


def ensure_ahead(connection: Connection, today: date, days_ahead: int = DAYS_AHEAD) -> list[str]:
    """Create the partitions of ``today`` .. ``today + days_ahead`` that are missing."""
    take_turn(connection)
    existing = set(partition_days(connection))
    return [create_partition(connection, today + timedelta(days=offset))
            for offset in range(days_ahead + 1)
            if today + timedelta(days=offset) not in existing]


def drop_older(connection: Connection, cutoff: datetime) -> tuple[list[str], int]:
    """Drop each partition whose whole day is before ``cutoff``, and delete the default
    partition's points older than it. Returns the dropped names and the deleted count."""
    take_turn(connection)
    dropped = []
    for day in partition_days(connection):
        if day_start(day) + timedelta(days=1) <= cutoff:
            name = partition_name(day)
            connection.execute(text(f"DROP TABLE {name}"))
            dropped.append(name)
    deleted = connection.execute(text(f"DELETE FROM {DEFAULT_PARTITION} WHERE \"time\" < :cutoff"),
                                 {"cutoff": cutoff}).rowcount
    return dropped, deleted


_SQLITE_SERIES = text("SELECT DISTINCT source, parameter FROM telemetry_points")
_SQLITE_DELETE = text(
    "DELETE FROM telemetry_points WHERE rowid IN (SELECT rowid FROM telemetry_points "
    "WHERE source = :source AND parameter = :parameter AND time < :cutoff LIMIT :batch)"
).bindparams(bindparam("cutoff", type_=UTCDateTime))


def delete_older_sqlite(database, cutoff: datetime, batch: int = DELETE_BATCH) -> int:
    """Delete the points older than ``cutoff``, series by series (each through the primary
    key's index), at most ``batch`` rows per transaction. Returns how many went."""
    with database.autocommit() as connection:
        series = connection.execute(_SQLITE_SERIES).all()
    deleted = 0
    for source, parameter in series:
        while True:
            with database.begin() as connection:
                count = connection.execute(_SQLITE_DELETE, {
                    "source": source, "parameter": parameter, "cutoff": cutoff,
                    "batch": batch}).rowcount
            deleted += count
            if count < batch:
                break
    return deleted
