"""Registry models: the assets operators command (workspaces > projects > levels > robots and
fixed assets; robots > modules) and the change events the registry appends on every write.

Names are unique within their parent. Foreign keys cascade at the database level so no row is
ever orphaned, but the registry API decides whether a delete may cascade (409 otherwise) and
records an event for every row it removes.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    JSON, Boolean, CheckConstraint, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint,
    Uuid, false, text,
)
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base, BigId
from .timeutil import UTCDateTime, utcnow

ASSET_STATUSES = ("IDLE", "RUNNING", "FAILED")
STATUS_CHECK = "status IN ('IDLE','RUNNING','FAILED')"


class _Timestamps:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Workspace(_Timestamps, Base):
    __tablename__ = "registry_workspaces"
    __table_args__ = (UniqueConstraint("name", name="uq_registry_workspaces_name"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")


class Project(_Timestamps, Base):
    __tablename__ = "registry_projects"
    __table_args__ = (UniqueConstraint("workspace_id", "name",
                                       name="uq_registry_projects_workspace_name"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    workspace_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("registry_workspaces.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")


class Level(_Timestamps, Base):
    __tablename__ = "registry_levels"
    __table_args__ = (UniqueConstraint("project_id", "name", name="uq_registry_levels_project_name"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    project_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("registry_projects.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    elevation: Mapped[float] = mapped_column(Float, default=0.0)


class Robot(_Timestamps, Base):
    """A robot, optionally placed on a level; its secrets are stored only as argon2 hashes."""

    __tablename__ = "registry_robots"
    # NULLs are distinct in a unique constraint, so robots without a level get a partial index.
    __table_args__ = (UniqueConstraint("level_id", "name", name="uq_registry_robots_level_name"),
                      CheckConstraint(STATUS_CHECK, name="ck_registry_robots_status"),
                      Index("uq_registry_robots_unplaced_name", "name", unique=True,
                            postgresql_where=text("level_id IS NULL"),
                            sqlite_where=text("level_id IS NULL")))

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    level_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("registry_levels.id", ondelete="CASCADE"), index=True, default=None)
    name: Mapped[str] = mapped_column(String(100))
    owner: Mapped[str] = mapped_column(String(100))
    owner_email: Mapped[str] = mapped_column(String(254))
    status: Mapped[str] = mapped_column(String(16), default="IDLE", index=True)
    last_online: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    network_ssid: Mapped[str | None] = mapped_column(String(32), default=None)
    network_password_hash: Mapped[str | None] = mapped_column(String(200), default=None)
    ip_address: Mapped[str | None] = mapped_column(String(45), default=None)
    port: Mapped[int | None] = mapped_column(Integer, default=None)
    password_hash: Mapped[str | None] = mapped_column(String(200), default=None)
    # Written by robot-server only (docs/robot-server.md): heartbeats set it, a closed session
    # or its sweeper (HEARTBEAT_TIMEOUT_S without one) clears it; the API shows `connection`.
    online: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class Module(_Timestamps, Base):
    __tablename__ = "registry_modules"
    __table_args__ = (UniqueConstraint("robot_id", "name", name="uq_registry_modules_robot_name"),
                      CheckConstraint(STATUS_CHECK, name="ck_registry_modules_status"))

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    robot_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("registry_robots.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    type: Mapped[str] = mapped_column(String(50))
    ip_address: Mapped[str | None] = mapped_column(String(45), default=None)
    port: Mapped[int | None] = mapped_column(Integer, default=None)
    last_online: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    status: Mapped[str] = mapped_column(String(16), default="IDLE", index=True)


class FixedAsset(_Timestamps, Base):
    __tablename__ = "registry_fixed_assets"
    __table_args__ = (UniqueConstraint("level_id", "name",
                                       name="uq_registry_fixed_assets_level_name"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    level_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("registry_levels.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    asset_type: Mapped[str] = mapped_column(String(50))
    x: Mapped[float] = mapped_column(Float, default=0.0)
    y: Mapped[float] = mapped_column(Float, default=0.0)
    z: Mapped[float] = mapped_column(Float, default=0.0)


class RegistryEvent(Base):
    """One create/update/delete of a registry entity.

    ``position`` is the consumers' cursor: NULL when written, numbered by the feed when it is
    read (registry_api/events.py).
    """

    __tablename__ = "registry_events"
    __table_args__ = (Index("uq_registry_events_position", "position", unique=True),
                      Index("ix_registry_events_unnumbered", "id",
                            postgresql_where=text("position IS NULL"),
                            sqlite_where=text("position IS NULL")))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    position: Mapped[int | None] = mapped_column(BigId, default=None)
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    action: Mapped[str] = mapped_column(String(16))
    changed: Mapped[list[str]] = mapped_column(JSON, default=list)
    actor: Mapped[str | None] = mapped_column(String(100), default=None)  # who made the change
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
