"""Two-person approval and command authority (issue 12): the AWAITING_APPROVAL status (17
characters: the status columns widen to 32, and the status check names it), who approved a
command, and the table of exclusive controls of targets.

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-26
"""
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

from mission_control.timeutil import UTCDateTime

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

OLD = "('READY','TRANSMITTED','ACKNOWLEDGED','EXECUTED','FAILED','CANCELLED')"
NEW = "('AWAITING_APPROVAL','READY','TRANSMITTED','ACKNOWLEDGED','EXECUTED','FAILED','CANCELLED')"


@contextmanager
def _history_kept():
    """SQLite rebuilds a table to change it (batch mode). Its DROP of the old telecommands
    table deletes every row first, and with foreign keys on (they are, and cannot be switched
    off inside the migration's transaction) that cascades to the history: the history is kept
    aside meanwhile and put back."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        op.execute("CREATE TEMPORARY TABLE history_0016 AS SELECT * FROM telecommand_history")
    yield
    if sqlite:
        op.execute("INSERT INTO telecommand_history SELECT * FROM history_0016 "
                   "WHERE id NOT IN (SELECT id FROM telecommand_history)")
        op.execute("DROP TABLE history_0016")


def _status_check(statuses: str, width: int) -> None:
    """The status check names ``statuses``; the status columns hold ``width`` characters."""
    with op.batch_alter_table("telecommand_history") as batch:
        batch.alter_column("from_status", type_=sa.String(width), existing_nullable=True)
        batch.alter_column("to_status", type_=sa.String(width), existing_nullable=False)
    # SQLite changes a CHECK constraint only by rebuilding the table; PostgreSQL alters it.
    rebuild = "always" if op.get_bind().dialect.name == "sqlite" else "auto"
    with op.batch_alter_table("telecommands", recreate=rebuild) as batch:
        batch.drop_constraint("ck_telecommands_status", type_="check")
        batch.alter_column("status", type_=sa.String(width), existing_nullable=False)
        batch.create_check_constraint("ck_telecommands_status", f"status IN {statuses}")


def upgrade() -> None:
    with _history_kept():
        _status_check(NEW, 32)
        with op.batch_alter_table("telecommands") as batch:
            batch.add_column(sa.Column("approved_by", sa.String(100), nullable=True))
    op.create_table(
        "target_controls",
        sa.Column("target_id", sa.String(64), sa.ForeignKey("targets.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("holder", sa.String(100), nullable=False),
        sa.Column("acquired_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("target_controls")
    # The older schema has no such status: waiting requests end CANCELLED, and their history
    # rows (too long for the narrower columns) go.
    op.execute("UPDATE telecommands SET status = 'CANCELLED', status_reason = 'approval removed' "
               "WHERE status = 'AWAITING_APPROVAL'")
    op.execute("DELETE FROM telecommand_history WHERE from_status = 'AWAITING_APPROVAL' "
               "OR to_status = 'AWAITING_APPROVAL'")
    with _history_kept():
        with op.batch_alter_table("telecommands") as batch:
            batch.drop_column("approved_by")
        _status_check(OLD, 16)
