"""Tables of limits and alerts (docs/alerts.md): limits per source and parameter, the alerts
they open (and robots going offline, telecommands ending FAILED), and the consecutive-sample
counts that a limit's persistence needs.

"One active alert per source and parameter" is the partial unique index
``ux_alerts_active`` (every state but resolved): however many ground replicas evaluate the
same crossing at once, the database keeps one row, and the losers update it instead.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    Boolean, CheckConstraint, Float, Index, Integer, String, Text, Uuid, text,
)
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base, BigId
from .timeutil import UTCDateTime, utcnow

SEVERITIES = ("info", "warning", "critical")
STATES = ("open", "acknowledged", "resolved")
KINDS = ("limit", "offline", "command")
ACTIVE = "state <> 'resolved'"  # the predicate of ux_alerts_active


class Limit(Base):
    """Yellow and red limits, low and high, of one parameter of one source. ``source`` is a
    source id (a target id: "spacecraft", a robot's UUID), ``kind:<kind>`` (every source of
    that target kind) or ``*`` (every source); the most specific row wins, then the built-in
    defaults (limits.DEFAULTS). A null bound is no bound."""

    __tablename__ = "limits"
    __table_args__ = (CheckConstraint("persistence >= 1", name="ck_limits_persistence"),)

    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    parameter: Mapped[str] = mapped_column(String(64), primary_key=True)
    yellow_low: Mapped[float | None] = mapped_column(Float, default=None)
    yellow_high: Mapped[float | None] = mapped_column(Float, default=None)
    red_low: Mapped[float | None] = mapped_column(Float, default=None)
    red_high: Mapped[float | None] = mapped_column(Float, default=None)
    persistence: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(100), default=None)


class Alert(Base):
    """An alert, following ISA-18.2: ``open`` (unacknowledged) -> ``acknowledged`` ->
    ``resolved``. ``cleared`` says the condition has gone (the value is back inside its
    limits, the robot is back online); an alert that is acknowledged and cleared is resolved.
    While ``shelved_until`` is in the future it is hidden from the open list."""

    __tablename__ = "alerts"
    __table_args__ = (
        CheckConstraint("severity IN ('info','warning','critical')", name="ck_alerts_severity"),
        CheckConstraint("state IN ('open','acknowledged','resolved')", name="ck_alerts_state"),
        CheckConstraint("kind IN ('limit','offline','command')", name="ck_alerts_kind"),
        Index("ux_alerts_active", "source", "parameter", unique=True,
              postgresql_where=text(ACTIVE), sqlite_where=text(ACTIVE)),
        Index("ix_alerts_state_opened", "state", "opened_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(64))
    # null for command alerts: several may be active for one target
    parameter: Mapped[str | None] = mapped_column(String(64), default=None)
    kind: Mapped[str] = mapped_column(String(16))
    severity: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), default="open")
    value: Mapped[float | None] = mapped_column(Float, default=None)
    limit_crossed: Mapped[str | None] = mapped_column(String(16), default=None)
    limit_value: Mapped[float | None] = mapped_column(Float, default=None)
    message: Mapped[str] = mapped_column(Text)
    command_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    cleared: Mapped[bool] = mapped_column(Boolean, default=False)
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    shelved_until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    shelved_by: Mapped[str | None] = mapped_column(String(100), default=None)
    acknowledged_by: Mapped[str | None] = mapped_column(String(100), default=None)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    ack_comment: Mapped[str | None] = mapped_column(Text, default=None)
    resolved_by: Mapped[str | None] = mapped_column(String(100), default=None)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class LimitCount(Base):
    """How many consecutive samples of a source's parameter were beyond a yellow limit
    (``beyond_yellow``, red ones included) and beyond a red one; kept only for limits with a
    persistence above 1."""

    __tablename__ = "limit_counts"

    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    parameter: Mapped[str] = mapped_column(String(64), primary_key=True)
    beyond_yellow: Mapped[int] = mapped_column(Integer, default=0)
    beyond_red: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

