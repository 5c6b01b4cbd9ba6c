"""robot-server's tables: robot sessions (tokens stored as SHA-256), connection events
(connect, disconnect, timeout) and the lease that lets one robot-server process of the fleet
run the offline sweeper (docs/robot-server.md)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base, BigId
from .timeutil import UTCDateTime, utcnow

CONNECTION_EVENTS = ("connect", "disconnect", "timeout")


class RobotSession(Base):
    """An open (or closed) session of a robot; the bearer token is only stored as its SHA-256."""

    __tablename__ = "robot_sessions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    robot_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("registry_robots.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # The latest telemetry the robot sent in this session (issue 11 stores series).
    telemetry: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)


class RobotConnectionEvent(Base):
    """A robot going online (connect) or offline (disconnect: its session closed; timeout: no
    heartbeat for HEARTBEAT_TIMEOUT_S)."""

    __tablename__ = "robot_connection_events"
    __table_args__ = (CheckConstraint("event IN ('connect','disconnect','timeout')",
                                      name="ck_robot_connection_events_event"),
                      Index("ix_robot_connection_events_robot", "robot_id", "at"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    robot_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("registry_robots.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Lease(Base):
    """A named job that one process of the fleet runs at a time: ``holder`` until
    ``expires_at``, renewed while it runs (robot-server's sweeper)."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(100))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
