"""How an uplink target keeps its commands in SQL, shared by the spacecraft
(``uplinked_commands``) and robot-server (``robot_commands``): both tables name their columns
alike (id, command_name, state, detail, executions, receipts, received_at, finished_at).

Receipt is idempotent on the command id (the table's primary key): one INSERT ... ON CONFLICT
(id) DO UPDATE SET receipts = receipts + 1 stores the new commands of a batch and counts one
more receipt of the known ones, so two copies racing can never store a command twice.
"""

from __future__ import annotations

from typing import Any, Iterable, Sequence

from sqlalchemy import Column, Connection, Row, Table, select
from sqlalchemy.dialects import postgresql, sqlite

from .db import is_postgresql
from .uplink_schemas import Acknowledgement

REPORTED = ("id", "command_name", "state", "detail", "executions", "receipts", "received_at",
            "finished_at")


def store_receipts(connection: Connection, table: Table, rows: list[dict[str, Any]],
                   *returning: Column) -> Sequence[Row]:
    """Insert the new rows, count one more receipt of the known ids; each id's row as stored
    (id, state, executions, received_at, receipts and ``returning``).

    Rows go in id order, so two batches that share ids lock them in the same order and
    cannot deadlock. The ids must be unique within the call.
    """
    insert = postgresql.insert if is_postgresql(connection) else sqlite.insert
    statement = insert(table).on_conflict_do_update(
        index_elements=[table.c.id], set_={"receipts": table.c.receipts + 1},
    ).returning(table.c.id, table.c.state, table.c.executions, table.c.received_at,
                table.c.receipts, *returning)
    return connection.execute(statement, sorted(rows, key=lambda row: row["id"])).all()


def acknowledgements(stored: Iterable[Row]) -> dict[str, Acknowledgement]:
    """The acknowledgement of each stored row: its first receipt's time, its current state."""
    return {row.id: Acknowledgement(id=row.id, state=row.state, executions=row.executions,
                                    received_at=row.received_at, acknowledged=True)
            for row in stored}


def read_reports(connection: Connection, table: Table, command_ids: list[str],
                 *extra: Column) -> Sequence[Row]:
    """The rows of the known ids among ``command_ids`` (the CommandReport columns and
    ``extra``), read with one SELECT."""
    columns = [table.c[name] for name in REPORTED]
    return connection.execute(select(*columns, *extra)
                              .where(table.c.id.in_(command_ids))).all()
