"""The registry's change feed: one event per create, update or delete, in the writer's transaction."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from mission_control.registry_models import RegistryEvent

# Arbitrary constant naming the registry's write lock among PostgreSQL advisory locks.
_WRITE_LOCK_KEY = 0x5245_4749  # "REGI"


def lock_for_write(session: Session) -> None:
    """Serialize registry writes: call first in every writing transaction.

    Event ids come from a sequence, which hands them out at insert time; two concurrent
    writers could commit ids 8 and 7 in that order, and a reader who had just seen 8 would
    never see 7. Holding one transaction-scoped lock from before the first read to the commit
    makes commit order equal id order, and makes every check-then-write here exact (the
    parent exists, the name is free, the children are all of them). Registry writes are
    rare and short (passwords are hashed before the transaction), so one at a time is cheap.
    SQLite needs nothing: its BEGIN IMMEDIATE already admits one writer at a time.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _WRITE_LOCK_KEY})


def append(session: Session, entity: str, entity_id: uuid.UUID, action: str,
           changed: list[str], at: datetime) -> None:
    session.add(RegistryEvent(entity=entity, entity_id=entity_id, action=action,
                              changed=changed, at=at))


def page(session: Session, since: int, limit: int) -> list[RegistryEvent]:
    """Events after cursor ``since``, oldest first."""
    return list(session.scalars(select(RegistryEvent).where(RegistryEvent.id > since)
                                .order_by(RegistryEvent.id).limit(limit)))


def to_json(event: RegistryEvent) -> dict[str, Any]:
    return {"id": event.id, "entity": event.entity, "entity_id": str(event.entity_id),
            "action": event.action, "changed": list(event.changed), "at": event.at.isoformat()}
