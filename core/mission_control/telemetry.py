"""Telemetry: store batches of points, read a series (raw or downsampled), read each
parameter's newest value. Nothing here knows HTTP (ground/telemetry_api.py does).

Downsampling: when a window holds more than ``max_points`` points, the answer is one bucket
per ``bucket_s`` seconds with min, max, avg and count. ``bucket_s`` is the smallest of
BUCKET_WIDTHS (then whole days) that keeps the buckets within ``max_points``; a bucket starts
at a multiple of ``bucket_s`` since the Unix epoch (so 60 s buckets start on whole minutes,
3600 s buckets on whole hours, UTC) and holds the points of [start, start + bucket_s). The
buckets are computed by the database, so a million points never travel to Python.
"""

from __future__ import annotations

import io
import math
import time
from datetime import UTC, datetime
from typing import Any, Iterable

import psycopg2.extensions
from sqlalchemy import Integer, cast, func, literal, select, text
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from . import evaluate, limits, metrics
from .db import Database, array_literal
from .telemetry_models import TelemetryPoint
from .telemetry_schemas import Point
from .timeutil import UTCDateTime, isoformat, utcnow

BUCKET_WIDTHS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600,
                 43200, 86400)
DAY_S = 86400
CHART_WORK_MEM = "32MB"
COPY_FROM = 200  # rows: smaller batches are written with one multi-row INSERT

POINTS_INGESTED = metrics.counter(
    "mc_telemetry_points_ingested_total",
    "Telemetry points stored (HTTP batches and robot heartbeats; a point sent again counts again)")
INGEST_SECONDS = metrics.histogram(
    "mc_telemetry_ingest_seconds",
    "Time to store one batch of telemetry points, in one transaction")

_points = TelemetryPoint.__table__
_c = _points.c


def rows_of(points: Iterable[Point], now: datetime | None = None) -> list[dict[str, Any]]:
    """Validated points as rows; a point without a time gets ``now`` (one for the batch)."""
    now = now or utcnow()
    return [{"source": p.source, "parameter": p.parameter, "value": p.value, "unit": p.unit,
             "time": p.time or now} for p in points]


def store(session: Session, rows: list[dict[str, Any]]) -> None:
    """Write rows (``source, parameter, value, unit, time``) in the caller's transaction. A
    point whose source, parameter and time are stored already is left as it is (a producer's
    retry stores nothing twice). Then ``_after_ingest``.

    PostgreSQL, from COPY_FROM rows: COPY into a temporary table, then one INSERT ... SELECT
    ... ON CONFLICT DO NOTHING (COPY cannot skip conflicts itself); about three times as fast
    as multi-row INSERTs for a batch of thousands, but three round trips where a small batch
    (a heartbeat flush's) needs one. Otherwise (PostgreSQL) one INSERT ... SELECT FROM
    unnest(arrays) ON CONFLICT DO NOTHING (``_insert_arrays``); so too under psycogreen
    (robot-server's gevent worker), where psycopg2 refuses COPY ("copy_expert cannot be used
    with an asynchronous callback"). SQLite: multi-row INSERT OR IGNORE."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    if dialect != "postgresql":
        session.execute(sqlite_insert(_points).on_conflict_do_nothing(), rows)
    elif len(rows) >= COPY_FROM and psycopg2.extensions.get_wait_callback() is None:
        _copy(session, rows)
    else:
        _insert_arrays(session, rows)
    _after_ingest(session, rows)


_INSERT_ARRAYS = text(
    'INSERT INTO telemetry_points (source, parameter, "time", value, unit) '
    "SELECT * FROM unnest(CAST(:sources AS text[]), CAST(:parameters AS text[]), "
    "CAST(:times AS timestamptz[]), CAST(:values AS double precision[]), CAST(:units AS text[])) "
    "ON CONFLICT DO NOTHING")


def _insert_arrays(session: Session, rows: list[dict[str, Any]]) -> None:
    """PostgreSQL: the rows as five arrays in one statement (unnest, each array one text
    parameter: db.array_literal); multi-row VALUES went through SQLAlchemy and psycopg2 per
    row and per value (a robot-server heartbeat flush of a thousand points spent most of its
    time there)."""
    times = [r["time"] for r in rows]
    if any(t.tzinfo is None for t in times):
        raise ValueError("naive datetime given to a UTC column")
    session.execute(_INSERT_ARRAYS, {
        "sources": array_literal([r["source"] for r in rows]),
        "parameters": array_literal([r["parameter"] for r in rows]),
        "times": array_literal(times), "values": array_literal([float(r["value"]) for r in rows]),
        "units": array_literal([r["unit"] for r in rows])})


def _copy_text(value: str | None) -> str:
    # Validated text holds no control characters; a backslash is COPY's escape.
    return r"\N" if value is None else value.replace("\\", "\\\\")


def _copy(session: Session, rows: list[dict[str, Any]]) -> None:
    data = io.StringIO("".join(
        f"{_copy_text(r['source'])}\t{_copy_text(r['parameter'])}\t{float(r['value'])!r}\t"
        f"{_copy_text(r['unit'])}\t{r['time'].isoformat()}\n" for r in rows))
    with session.connection().connection.cursor() as cursor:
        # One per connection, emptied at each commit (ON COMMIT DELETE ROWS).
        cursor.execute("CREATE TEMPORARY TABLE IF NOT EXISTS incoming_points "
                       "(LIKE telemetry_points) ON COMMIT DELETE ROWS")
        cursor.copy_expert('COPY incoming_points (source, parameter, value, unit, "time") '
                           "FROM STDIN", data)
        cursor.execute('INSERT INTO telemetry_points (source, parameter, "time", value, unit) '
                       'SELECT source, parameter, "time", value, unit FROM incoming_points '
                       "ON CONFLICT DO NOTHING")


def _after_ingest(session: Session, rows: list[dict[str, Any]]) -> None:
    """In the transaction of every stored batch, after its rows are written: the limits'
    alerts (evaluate.py; a fixed number of queries per batch)."""
    evaluate.evaluate(session, rows)


def counted(count: int) -> None:
    """Count ``count`` points stored by a committed transaction."""
    POINTS_INGESTED.inc(count)


def ingest(database: Database, points: list[Point]) -> int:
    """Store a validated batch in one transaction; how many points it held."""
    started = time.perf_counter()
    rows = rows_of(points)
    with database.transaction() as session:
        store(session, rows)
    INGEST_SECONDS.observe(time.perf_counter() - started)
    counted(len(rows))
    return len(rows)


def bucket_width(since: datetime, until: datetime, max_points: int) -> int:
    """The bucket width in seconds for [since, until): the smallest of BUCKET_WIDTHS (or a
    whole number of days) whose epoch-aligned buckets number at most ``max_points``. A
    window of span S touches at most S / width + 1 aligned buckets, hence ``max_points - 1``."""
    needed = (until - since).total_seconds() / (max_points - 1)
    for width in BUCKET_WIDTHS:
        if width >= needed:
            return width
    return DAY_S * math.ceil(needed / DAY_S)


def _bucket_start(dialect: str, width: int):
    if dialect == "postgresql":
        # date_part gives double precision (EXTRACT gives numeric, several times slower per
        # row); exact for whole seconds, which is where bucket boundaries fall.
        return func.floor(func.date_part("epoch", _c.time) / width) * width
    # SQLite: whole seconds since the epoch, exact (julianday arithmetic would round); the
    # fraction of a second never changes a whole-second bucket.
    return cast(func.strftime("%s", _c.time), Integer) // width * width


def series(session: Session, source: str, parameter: str, since: datetime, until: datetime,
           max_points: int) -> dict[str, Any]:
    """One parameter of one source over [since, until): the raw points when there are at most
    ``max_points``, else min/max/avg/count buckets (see the module's docstring)."""
    window = (_c.source == source, _c.parameter == parameter, _c.time >= since,
              _c.time < until)
    answer: dict[str, Any] = {"source": source, "parameter": parameter,
                              "since": isoformat(since), "until": isoformat(until),
                              "max_points": max_points}
    # Counting stops at max_points + 1: deciding "too many" reads no more than that.
    few = select(literal(1)).where(*window).limit(max_points + 1).subquery()
    if session.scalar(select(func.count()).select_from(few)) <= max_points:
        rows = session.execute(select(_c.time, _c.value).where(*window).order_by(_c.time))
        return {**answer, "mode": "raw", "bucket_s": None,
                "points": [{"time": isoformat(t), "value": v} for t, v in rows], "buckets": []}
    width = bucket_width(since, until, max_points)
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        # The planner expects a group per point, so it sorts the window's points rather than
        # hashing them; with the default work_mem (4 MB) a day of 1 Hz points sorts on disk.
        session.execute(text(f"SET LOCAL work_mem = '{CHART_WORK_MEM}'"))
    start = _bucket_start(dialect, width).label("start")
    rows = session.execute(
        select(start, func.min(_c.value), func.max(_c.value), func.avg(_c.value), func.count())
        .where(*window).group_by(start).order_by(start))
    return {**answer, "mode": "buckets", "bucket_s": width, "points": [], "buckets": [
        {"time": isoformat(datetime.fromtimestamp(float(s), UTC)), "min": low, "max": high,
         "avg": float(mean), "count": count} for s, low, high, mean, count in rows]}


# PostgreSQL: the source's parameters found by a loose index scan (one index probe each, not
# a read of every point), then each one's newest point through the same index.
_LATEST_PG = text("""
WITH RECURSIVE parameters(parameter) AS (
    (SELECT parameter FROM telemetry_points WHERE source = :source
     ORDER BY parameter LIMIT 1)
    UNION ALL
    SELECT (SELECT t.parameter FROM telemetry_points t
            WHERE t.source = :source AND t.parameter > p.parameter
            ORDER BY t.parameter LIMIT 1)
    FROM parameters p WHERE p.parameter IS NOT NULL
)
SELECT p.parameter, newest.value, newest.unit, newest."time"
FROM parameters p CROSS JOIN LATERAL (
    SELECT value, unit, "time" FROM telemetry_points t
    WHERE t.source = :source AND t.parameter = p.parameter
    ORDER BY t."time" DESC LIMIT 1) newest
WHERE p.parameter IS NOT NULL ORDER BY p.parameter
""").columns(time=UTCDateTime)
# SQLite: a row's bare columns come from the row that max() chose.
_LATEST_SQLITE = text("""
SELECT parameter, value, unit, max(time) AS time FROM telemetry_points
WHERE source = :source GROUP BY parameter ORDER BY parameter
""").columns(time=UTCDateTime)


def latest(session: Session, source: str) -> list[dict[str, Any]]:
    """Each parameter of ``source`` with its newest value, unit, time and limit state
    (``ok``, ``yellow``, ``red``; None where no limit applies): three queries in all."""
    query = _LATEST_PG if session.get_bind().dialect.name == "postgresql" else _LATEST_SQLITE
    rows = list(session.execute(query, {"source": source}))
    bounds = limits.effective(session, [(source, row.parameter) for row in rows])
    return [{"parameter": row.parameter, "value": row.value, "unit": row.unit,
             "time": isoformat(row.time),
             "limit_state": limits.state_of(found, row.value)
             if (found := bounds.get((source, row.parameter))) is not None else None}
            for row in rows]
