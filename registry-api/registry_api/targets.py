"""Robots and modules are telecommand targets: their ``targets`` rows follow the registry.

Written in the transaction that creates, changes or deletes the robot or module, so a target
exists exactly when its registry row does (docs/http-api.md#targets). A deleted robot's or
module's target is kept, with ``removed_at``, because its commands refer to it.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, update

from mission_control.models import Target

# Registry entity -> target kind.
KINDS = {"robot": "robot", "module": "module"}

_targets = Target.__table__


def _parent(entity: str, row: Any) -> str | None:
    return str(row.robot_id) if entity == "module" else None


def created(connection: Connection, entity: str, row: Any, now: datetime) -> None:
    if entity in KINDS:
        connection.execute(insert(_targets).values(
            id=str(row.id), kind=KINDS[entity], name=row.name, parent_id=_parent(entity, row),
            created_at=now))


def updated(connection: Connection, entity: str, row: Any) -> None:
    if entity in KINDS:
        connection.execute(update(_targets).where(_targets.c.id == str(row.id)).values(
            name=row.name, parent_id=_parent(entity, row)))


def deleted(connection: Connection, entity: str, ids: list[uuid.UUID], now: datetime) -> None:
    if entity in KINDS and ids:
        connection.execute(update(_targets).where(
            _targets.c.id.in_([str(i) for i in ids]), _targets.c.removed_at.is_(None)
        ).values(removed_at=now))
