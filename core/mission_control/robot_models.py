"""robot-server's tables: robot sessions (tokens stored as SHA-256), connection events
(connect, disconnect, timeout), the lease that lets one robot-server process of the fleet
run the offline sweeper, and the commands queued for robots (docs/robot-server.md)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String, Text, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base, BigId
from .timeutil import UTCDateTime, utcnow

CONNECTION_EVENTS = ("connect", "disconnect", "timeout")
_QUEUED = "state = 'RECEIVED'"


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


class RobotCommand(Base):
    """A command the uplink handed robot-server for a robot (or one of its modules): queued
    RECEIVED until the robot acknowledges it (EXECUTING) or ``expires_at`` passes (FAILED
    "expired"), then EXECUTED or FAILED as the robot reports.

    ``robot_id`` and ``module_id`` are the registry's ids without a foreign key: a command's
    history outlives the robot, so the command-sender still reads how it ended.
    """

    __tablename__ = "robot_commands"
    __table_args__ = (CheckConstraint("state IN ('RECEIVED','EXECUTING','EXECUTED','FAILED')",
                                      name="ck_robot_commands_state"),
                      CheckConstraint("executions IN (0, 1)",
                                      name="ck_robot_commands_executions"),
                      # a robot's poll: its RECEIVED commands in received order
                      Index("ix_robot_commands_pending", "robot_id", "received_at",
                            postgresql_where=text(_QUEUED), sqlite_where=text(_QUEUED)),
                      # the sweeper: RECEIVED commands by expiry
                      Index("ix_robot_commands_expiry", "expires_at",
                            postgresql_where=text(_QUEUED), sqlite_where=text(_QUEUED)))

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # the telecommand id
    robot_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    module_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    command_name: Mapped[str] = mapped_column(String(64))
    args: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    confirmed_by: Mapped[str | None] = mapped_column(String(64), default=None)
    state: Mapped[str] = mapped_column(String(16), default="RECEIVED")
    detail: Mapped[str | None] = mapped_column(Text, default=None)
    executions: Mapped[int] = mapped_column(Integer, default=0)
    receipts: Mapped[int] = mapped_column(Integer, default=1)
    deliveries: Mapped[int] = mapped_column(Integer, default=0)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # what the robot reported of the module after a module command (also written to
    # registry_modules.status)
    module_status_after: Mapped[str | None] = mapped_column(String(16), default=None)
