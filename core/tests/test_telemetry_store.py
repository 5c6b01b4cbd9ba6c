"""Storing a large batch works whichever way psycopg2 waits: with a wait callback installed
(psycogreen does so under robot-server's gevent worker) psycopg2 refuses COPY, so the store
falls back to one INSERT of arrays (unnest) there."""

from __future__ import annotations

from datetime import timedelta

import psycopg2.extensions
import psycopg2.extras
from sqlalchemy import func, select

from mission_control import telemetry
from mission_control.telemetry_models import TelemetryPoint
from mission_control.timeutil import utcnow


def _rows(count: int, parameter: str) -> list[dict]:
    start = utcnow() - timedelta(hours=1)
    return [{"source": "robot-x", "parameter": parameter, "value": float(i), "unit": None,
             "time": start + timedelta(seconds=i)} for i in range(count)]


def _stored(database, parameter: str) -> int:
    with database.transaction() as session:
        return session.scalar(select(func.count()).select_from(TelemetryPoint)
                              .where(TelemetryPoint.parameter == parameter))


def test_a_batch_above_the_copy_size_is_stored_with_and_without_a_wait_callback(database):
    count = telemetry.COPY_FROM + 50
    with database.transaction() as session:  # COPY on PostgreSQL
        telemetry.store(session, _rows(count, "plain"))
    psycopg2.extensions.set_wait_callback(psycopg2.extras.wait_select)  # as psycogreen does
    try:
        database.engine.dispose()  # connections made from now on use the callback
        rows = _rows(count, "waited")
        with database.transaction() as session:
            telemetry.store(session, rows)
            telemetry.store(session, rows)  # a retry stores nothing twice
    finally:
        psycopg2.extensions.set_wait_callback(None)
        database.engine.dispose()
    assert _stored(database, "plain") == _stored(database, "waited") == count


def test_a_small_batch_keeps_text_with_quotes_commas_and_backslashes(database):
    """PostgreSQL passes a small batch as arrays (db.array_literal): text that means
    something inside an array literal is stored as it was sent."""
    start = utcnow() - timedelta(minutes=5)
    odd = ['a"b', "c,d", "e\\f", "{g}", "NULL", " h "]
    rows = [{"source": "robot-odd", "parameter": f"p{i}", "value": 1.5, "unit": unit,
             "time": start} for i, unit in enumerate([*odd, None])]
    with database.transaction() as session:
        telemetry.store(session, rows)
    with database.transaction() as session:
        stored = dict(session.execute(select(TelemetryPoint.parameter, TelemetryPoint.unit)
                                      .where(TelemetryPoint.source == "robot-odd")).all())
    assert stored == {f"p{i}": unit for i, unit in enumerate([*odd, None])}
