"""Registry use cases for any resource: create, read, list, update, delete. Nothing here knows HTTP.

Writes take no table-wide lock. The database's own constraints decide the races: a name
clash is the unique constraint's violation (NameTaken) and a vanished parent the foreign
key's (UnknownParent), so two concurrent writers cannot both win. PATCH and DELETE lock the
rows they change (FOR UPDATE, top-down through a cascade), so an update sees the row it
changes and a cascade sees, and records an event for, every descendant: a child being added
under a locked row waits, then fails on its foreign key. Every write appends its events in
the same transaction, so the feed and the tables never disagree; each event names its actor,
which the caller passes in (the API: the signed-in user; registry-seed: itself).
"""

from __future__ import annotations

import functools
import uuid
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Callable, Iterator

from sqlalchemy import (
    Connection, DateTime, Executable, Row, Select, Table, Uuid, bindparam, delete as sql_delete,
    func, insert, select,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeDecorator

from mission_control.db import Database, is_postgresql, violation
from mission_control.timeutil import utcnow

from . import events, targets
from .resources import RESOURCES, Resource
from .schemas import Sort

CHILDREN_NAMED = 20


class NotFound(LookupError):
    def __init__(self, resource: Resource, raw_id: object) -> None:
        super().__init__(f"no {resource.label} with id {raw_id}")


class UnknownParent(LookupError):
    def __init__(self, resource: Resource, parent_id: uuid.UUID) -> None:
        self.field = resource.parent_field
        parent = RESOURCES[resource.parent].label
        super().__init__(f"no {parent} with id {parent_id}")


class NameTaken(Exception):
    def __init__(self, resource: Resource, name: str) -> None:
        where = f"in this {RESOURCES[resource.parent].label}" if resource.parent else "already"
        super().__init__(f"a {resource.label} named {name!r} exists {where}")


class HasChildren(Exception):
    def __init__(self, resource: Resource, children: list[dict[str, Any]], total: int) -> None:
        super().__init__(f"this {resource.label} still has {total} "
                         f"{'child' if total == 1 else 'children'}; delete them first "
                         f"or pass ?cascade=true")
        self.children = children
        self.total = total


def parse_id(resource: Resource, raw: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise NotFound(resource, raw) from None


def prepare(resource: Resource, data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """API fields -> the columns each one writes. Hashes secrets: call it outside a transaction."""
    return {name: resource.columns[name](value) if name in resource.columns else {name: value}
            for name, value in data.items()}


def get(session: Session, resource: Resource, item_id: uuid.UUID, *, lock: bool = False) -> Any:
    """The row, or NotFound; ``lock`` holds it (FOR UPDATE) until the transaction ends."""
    row = session.get(resource.model, item_id, with_for_update=lock or None)
    if row is None:
        raise NotFound(resource, item_id)
    return row


# -- reads: one prebuilt Core statement each, on a connection without a transaction -----------
# (Database.autocommit). Statements are built once per shape, so SQLAlchemy neither rebuilds nor
# re-keys them per request; one statement means one consistent snapshot, and no BEGIN/COMMIT.

@functools.cache
def _one_statement(path: str) -> Select:
    table = RESOURCES[path].model.__table__
    return select(table).where(table.c.id == bindparam("id"))


def _filtered(query: Select, table: Table, filters: tuple[str, ...]) -> Select:
    """``query`` restricted to rows whose ``filters`` columns equal same-named parameters."""
    return query.where(*(table.c[column] == bindparam(column) for column in filters))


@functools.cache
def _page_statement(path: str, filters: tuple[str, ...], sort: Sort) -> Select:
    table = RESOURCES[path].model.__table__
    query = _filtered(select(table, func.count().over().label("total_matching")), table, filters)
    key = table.c[sort.lstrip("-")]
    order = (key.desc(), table.c.id.desc()) if sort.startswith("-") else (key, table.c.id)
    return query.order_by(*order).limit(bindparam("limit")).offset(bindparam("offset"))


@functools.cache
def _count_statement(path: str, filters: tuple[str, ...]) -> Select:
    table = RESOURCES[path].model.__table__
    return _filtered(select(func.count()).select_from(table), table, filters)


def read(connection: Connection, resource: Resource, item_id: uuid.UUID) -> Row:
    row = connection.execute(_one_statement(resource.path), {"id": item_id}).first()
    if row is None:
        raise NotFound(resource, item_id)
    return row


def page(connection: Connection, resource: Resource, *, filters: dict[str, Any], sort: Sort,
         limit: int, offset: int) -> tuple[list[Row], int]:
    """One page of rows matching ``filters`` (column -> value), and how many match in all."""
    names = tuple(sorted(filters))
    rows = list(connection.execute(_page_statement(resource.path, names, sort),
                                   {**filters, "limit": limit, "offset": offset}))
    if rows:
        return rows, rows[0].total_matching
    if offset == 0:
        return rows, 0
    # Past the end: the total needs its own count (a separate snapshot, so it may differ).
    return rows, connection.execute(_count_statement(resource.path, names), filters).scalar_one()


@functools.cache
def _create_statement(path: str, columns: tuple[str, ...], postgresql: bool) -> Executable:
    resource = RESOURCES[path]
    table = resource.model.__table__
    write = insert(table).values({c: bindparam(c, type_=table.c[c].type) for c in columns})
    write = write.returning(*table.c)
    return events.with_event(write, resource.entity, "created") if postgresql else write


def create(connection: Connection, resource: Resource, prepared: dict[str, dict[str, Any]], *,
           actor: str) -> Row:
    """Insert the row (Core INSERT ... RETURNING, no ORM unit of work) and its event, recorded
    as ``actor``'s; on PostgreSQL both in one statement."""
    columns = {c: v for written in prepared.values() for c, v in written.items()}
    now = utcnow()
    values = {"id": uuid.uuid4(), "created_at": now, "updated_at": now, **columns}
    parent_id = columns.get(resource.parent_field) if resource.parent_field else None
    changed = sorted(prepared)
    postgresql = is_postgresql(connection)
    statement = _create_statement(resource.path, tuple(sorted(values)), postgresql)
    with _constraints(resource, columns["name"], parent_id):
        if postgresql:
            row = connection.execute(statement, {**values, "event_changed": changed,
                                                 "event_actor": actor, "event_at": now}).one()
        else:
            row = connection.execute(statement, values).one()
            events.append(connection, resource.entity, [row.id], "created", changed, now, actor)
    targets.created(connection, resource.entity, row, now)
    return row


def create_alone(database: Database, resource: Resource, prepared: dict[str, dict[str, Any]],
                 *, actor: str) -> Row:
    """``create`` in a transaction of its own. On PostgreSQL ``create`` is one statement for
    most resources, and one statement is a transaction by itself: it runs on an autocommit
    connection, which saves the BEGIN and COMMIT round trips. A robot or module also writes
    its target: two statements, one transaction."""
    alone = database.is_postgresql and resource.entity not in targets.KINDS
    with (database.autocommit() if alone else database.begin()) as connection:
        return create(connection, resource, prepared, actor=actor)


def update(session: Session, resource: Resource, item_id: uuid.UUID,
           prepared: dict[str, dict[str, Any]], *, actor: str) -> Any:
    """Apply the given fields, as ``actor``; nothing is written (no event) when no value
    changes."""
    row = get(session, resource, item_id, lock=True)
    changed = sorted(name for name, written in prepared.items()
                     if any(getattr(row, c) != v for c, v in written.items()))
    if not changed:
        return row
    columns = {c: v for name in changed for c, v in prepared[name].items()}
    name = columns.get("name", row.name)
    parent_id = None
    if resource.parent_field:
        parent_id = columns.get(resource.parent_field, getattr(row, resource.parent_field))
    now = utcnow()
    for column, value in columns.items():
        setattr(row, column, value)
    row.updated_at = now
    with _constraints(resource, name, parent_id):
        session.flush()
    events.append(session.connection(), resource.entity, [row.id], "updated", changed, now,
                  actor)
    targets.updated(session.connection(), resource.entity, row)
    return row


def delete(session: Session, resource: Resource, item_id: uuid.UUID, *, cascade: bool,
           actor: str) -> int:
    """Delete a row, as ``actor``; with ``cascade``, all its descendants too. Returns how many
    rows went."""
    get(session, resource, item_id, lock=True)
    tree = _with_descendants(session, resource, item_id)
    if not cascade and len(tree) > 1:
        raise HasChildren(resource, *_direct_children(session, resource, item_id))
    now = utcnow()
    for member, ids in reversed(tree):  # children before their parents
        events.append(session.connection(), member.entity, ids, "deleted", [], now, actor)
        targets.deleted(session.connection(), member.entity, ids, now)
        session.execute(sql_delete(member.model).where(member.model.id.in_(ids)))
    return sum(len(ids) for _, ids in tree)


@contextmanager
def _constraints(resource: Resource, name: str, parent_id: uuid.UUID | None) -> Iterator[None]:
    """Turn a broken constraint of the write inside into the error the client can act on."""
    try:
        yield
    except IntegrityError as error:
        kind = violation(error)
        if kind == "unique":
            raise NameTaken(resource, name) from None
        if kind == "foreign_key" and parent_id is not None:
            raise UnknownParent(resource, parent_id) from None
        raise


def _with_descendants(session: Session, resource: Resource,
                      item_id: uuid.UUID) -> list[tuple[Resource, list[uuid.UUID]]]:
    """The row and every descendant, parents before children, as (resource, ids) groups."""
    tree = [(resource, [item_id])]
    for member, ids in tree:  # grows while iterating: breadth first
        for child_path, foreign_key in member.children:
            child = RESOURCES[child_path]
            child_ids = list(session.scalars(select(child.model.id).where(
                getattr(child.model, foreign_key).in_(ids)).with_for_update()))
            if child_ids:
                tree.append((child, child_ids))
    return tree


def _direct_children(session: Session, resource: Resource,
                     item_id: uuid.UUID) -> tuple[list[dict[str, Any]], int]:
    named: list[dict[str, Any]] = []
    total = 0
    for child_path, foreign_key in resource.children:
        model = RESOURCES[child_path].model
        where = getattr(model, foreign_key) == item_id
        total += session.scalar(select(func.count()).select_from(model).where(where)) or 0
        rows = session.execute(select(model.id, model.name).where(where)
                               .order_by(model.name).limit(CHILDREN_NAMED))
        named += [{"type": RESOURCES[child_path].entity, "id": str(i), "name": n} for i, n in rows]
    return named[:CHILDREN_NAMED], total


@functools.cache
def _output(path: str) -> tuple[tuple[str, Callable[[Any], Any] | None], ...]:
    """The response fields of a resource, in order, each with how to make its value JSON."""
    resource = RESOURCES[path]
    columns = resource.model.__table__.c
    stamps = ["created_at", "updated_at"]
    fields = []
    for name in [n for n in resource.out.model_fields if n not in stamps] + stamps:
        kind = columns[name].type if name in columns else None
        if isinstance(kind, TypeDecorator):
            kind = kind.impl
        convert = (str if isinstance(kind, Uuid) else
                   datetime.isoformat if isinstance(kind, DateTime) else None)
        fields.append((name, convert))
    return tuple(fields)


def to_json(resource: Resource, row: Any) -> dict[str, Any]:
    """The response body of one row (ORM object or Core row): the out model's fields, never a
    secret or its hash."""
    derived = resource.derived(row)
    data: dict[str, Any] = {}
    for name, convert in _output(resource.path):
        value = derived[name] if name in derived else getattr(row, name)
        data[name] = value if convert is None or value is None else convert(value)
    return data
