"""The registry's change feed: one event per create, update or delete, in the writer's transaction.

Writers take no lock. An event's id comes from a sequence when it is inserted, so two
concurrent writers can commit ids 8 and 7 in that order, and a reader who had already paged
past 8 would never see 7. So consumers page by ``position`` instead, which the feed assigns
when it reads, to the committed events it can see, after the highest position given so far:

- PostgreSQL: readers take a transaction-scoped advisory lock around the numbering, so one
  numbers at a time (writers never wait for it), and the numbering statement starts after the
  lock, so it sees every position the previous reader gave. An event committed later is
  numbered later, after them: a cursor never passes an event it has not been given. Within one
  numbering, events go in id order, which for two writes of one row is their commit order (the
  second writer waits for the first's row lock before it inserts its event). An open
  transaction anywhere on the cluster holds nothing back: its events are numbered once it
  commits (an earlier version waited for every older transaction to end).
- SQLite admits one writer at a time (BEGIN IMMEDIATE), so commit order is id order and the
  position is simply the id.

A read that finds nothing to number writes nothing: it neither takes the lock (on SQLite, the
database's one write lock) nor runs the UPDATE. A cheap EXISTS on the partial index of
unnumbered events decides, and the page itself is read in a statement of its own.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, Select, String, bindparam, insert, literal, select, text
from sqlalchemy.sql.dml import ReturningInsert
from sqlalchemy.orm import Session

from mission_control.db import Database, is_postgresql
from mission_control.registry_models import RegistryEvent

# Arbitrary constant naming the feed's numbering lock among PostgreSQL advisory locks.
_NUMBERING_LOCK_KEY = 0x5245_4749  # "REGI"

_NUMBER_POSTGRESQL = text("""
    WITH done AS (
        SELECT id, row_number() OVER (ORDER BY id) AS n
        FROM registry_events WHERE position IS NULL),
    last AS (SELECT coalesce(max(position), 0) AS position FROM registry_events)
    UPDATE registry_events AS e SET position = last.position + done.n
    FROM done, last WHERE e.id = done.id""")
_NUMBER_SQLITE = text("UPDATE registry_events SET position = id WHERE position IS NULL")
_NUMBERABLE = text("SELECT EXISTS (SELECT 1 FROM registry_events WHERE position IS NULL)")
_PAGE = (select(RegistryEvent.__table__).where(RegistryEvent.position > bindparam("since"))
         .order_by(RegistryEvent.position).limit(bindparam("limit")))


_INSERT = insert(RegistryEvent.__table__)


def append(connection: Connection, entity: str, entity_ids: list[uuid.UUID], action: str,
           changed: list[str], at: datetime, actor: str) -> None:
    """One event per id, written now, in the connection's transaction, by ``actor``."""
    rows = [{"entity": entity, "entity_id": entity_id, "action": action, "changed": changed,
             "actor": actor, "at": at} for entity_id in entity_ids]
    if rows:
        connection.execute(_INSERT, rows[0] if len(rows) == 1 else rows)  # one: no executemany


def with_event(write: ReturningInsert, entity: str, action: str) -> Select:
    """PostgreSQL: ``write`` (an INSERT ... RETURNING of one row) and its event as one statement,
    a data-modifying WITH, which PostgreSQL runs to completion although nothing reads it: one
    round trip fewer per create than ``append``. Parameters: the write's, ``event_changed``,
    ``event_actor`` and ``event_at``; the result is the written row."""
    written = write.cte("written")
    table = RegistryEvent.__table__
    event = insert(table).from_select(
        ["entity", "entity_id", "action", "changed", "actor", "at"],
        select(literal(entity, String), written.c.id, literal(action, String),
               bindparam("event_changed", type_=table.c.changed.type),
               bindparam("event_actor", type_=table.c.actor.type),
               bindparam("event_at", type_=table.c.at.type)))
    return select(written).add_cte(event.cte("event"))


def number(session: Session) -> None:
    """Give a position to every committed event that has none yet, after the last one given."""
    if is_postgresql(session.connection()):
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _NUMBERING_LOCK_KEY})
        session.execute(_NUMBER_POSTGRESQL)  # a new statement: its snapshot is after the lock
    else:
        session.execute(_NUMBER_SQLITE)


def page(database: Database, since: int, limit: int) -> list[Row]:
    """Events after cursor ``since``, oldest first, numbering first those that can be."""
    with database.autocommit() as connection:
        if connection.scalar(_NUMBERABLE):
            with database.transaction() as session:
                number(session)
        return list(connection.execute(_PAGE, {"since": since, "limit": limit}))


def to_json(event: Row | RegistryEvent) -> dict[str, Any]:
    return {"id": event.position, "entity": event.entity, "entity_id": str(event.entity_id),
            "action": event.action, "changed": list(event.changed), "actor": event.actor,
            "at": event.at.isoformat()}
