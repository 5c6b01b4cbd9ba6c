"""Telemetry as CSV (GET /api/telemetry.csv) and the sources that have telemetry. Nothing here
knows HTTP.

A CSV file is meant to be opened in a spreadsheet, which runs a cell starting with ``=``, ``+``,
``-`` or ``@`` (or a tab or carriage return before one) as a formula: such text cells are
prefixed with ``'`` (OWASP's advice against CSV injection). Values are numbers this module
writes itself, so a negative value stays a number.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Iterator

from sqlalchemy import func, literal, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from .models import Target
from .telemetry_models import TelemetryPoint
from .timeutil import isoformat

CSV_HEADER = ("time", "source", "parameter", "value", "unit")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CHUNK_ROWS = 2_000  # rows fetched, and written out, at a time

_c = TelemetryPoint.__table__.c


def safe_cell(value: str | None) -> str:
    """A text cell a spreadsheet shows as text: ``'`` before a formula's first character."""
    if value is None:
        return ""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def _window(source: str, parameter: str | None, since: datetime, until: datetime) -> list:
    where = [_c.source == source, _c.time >= since, _c.time < until]
    if parameter is not None:
        where.append(_c.parameter == parameter)
    return where


def count_at_most(connection: Connection, source: str, parameter: str | None, since: datetime,
                  until: datetime, cap: int) -> int:
    """How many points the window holds, counting no further than ``cap + 1``."""
    few = select(literal(1)).where(*_window(source, parameter, since, until)) \
        .limit(cap + 1).subquery()
    return connection.scalar(select(func.count()).select_from(few))


def csv_chunks(connection: Connection, source: str, parameter: str | None, since: datetime,
               until: datetime) -> Iterator[str]:
    """The header, then the window's points in time order (parameter order within a time), as
    CSV text in chunks of CHUNK_ROWS rows, read through a server-side cursor on PostgreSQL."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    rows = connection.execution_options(stream_results=True, yield_per=CHUNK_ROWS).execute(
        select(_c.time, _c.source, _c.parameter, _c.value, _c.unit)
        .where(*_window(source, parameter, since, until)).order_by(_c.time, _c.parameter))
    for partition in rows.partitions():
        for time, source_, parameter_, value, unit in partition:
            writer.writerow((isoformat(time), safe_cell(source_), safe_cell(parameter_),
                             repr(float(value)), safe_cell(unit)))
        yield out.getvalue()
        out.seek(0)
        out.truncate()
    if out.getvalue():  # no points: the header alone
        yield out.getvalue()


# PostgreSQL: the distinct sources by a loose index scan (one probe of the primary key per
# source), not a read of every point.
_SOURCES_PG = text("""
WITH RECURSIVE found(source) AS (
    (SELECT source FROM telemetry_points ORDER BY source LIMIT 1)
    UNION ALL
    SELECT (SELECT t.source FROM telemetry_points t WHERE t.source > f.source
            ORDER BY t.source LIMIT 1)
    FROM found f WHERE f.source IS NOT NULL
)
SELECT source FROM found WHERE source IS NOT NULL
""")


def sources(session: Session) -> list[str]:
    """Every source that has telemetry points, in order."""
    if session.get_bind().dialect.name == "postgresql":
        return list(session.scalars(_SOURCES_PG))
    return list(session.scalars(select(_c.source).distinct().order_by(_c.source)))


def names(session: Session, ids: list[str]) -> dict[str, str]:
    """The target name of each source that is a target."""
    return dict(session.execute(select(Target.id, Target.name).where(Target.id.in_(ids))).all())
