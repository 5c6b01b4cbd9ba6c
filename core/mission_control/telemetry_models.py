"""The telemetry table (migration 0013): one row per point of a source's parameter.

The primary key (source, parameter, time) is the series index every read uses, and it makes a
point sent twice (a producer's retry) one row. On PostgreSQL the table is partitioned by day on
``time`` (telemetry_partitions.py); SQLite keeps one plain table.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, String
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base
from .timeutil import UTCDateTime

NAME_MAX = 64  # a source (a target id: 64) or a parameter
UNIT_MAX = 16


class TelemetryPoint(Base):
    """One measured value: ``source`` is "spacecraft" or a robot's target id."""

    __tablename__ = "telemetry_points"

    source: Mapped[str] = mapped_column(String(NAME_MAX), primary_key=True)
    parameter: Mapped[str] = mapped_column(String(NAME_MAX), primary_key=True)
    time: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    value: Mapped[float] = mapped_column(Float)
    unit: Mapped[str | None] = mapped_column(String(UNIT_MAX), default=None)
