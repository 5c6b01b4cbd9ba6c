"""Name the worker's schedule: ``transmit_at`` and ``next_step_at`` replace ``due_at``.

``due_at`` meant three things (a READY command's transmit time, when to ask a target again,
and, while a worker held the row, its lease expiry). Now each has its own column:

- ``transmit_at``: the transmit time drawn for the command (kept once drawn);
- ``next_step_at``: when the worker next acts on an active command (NULL: final, or READY
  and not yet scheduled);
- ``lease_owner`` / ``lease_expires_at``: who is doing that step now, and until when.

A claim takes rows that nobody holds and whose ``next_step_at`` has come, or whose lease has
expired; one partial index serves each. The spacecraft's executor claims due RECEIVED
commands; a partial index on (execute_at, id) keeps that claim from scanning every command
ever received.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25
"""
import sqlalchemy as sa
from alembic import op

from mission_control.timeutil import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

UNSCHEDULED = "status = 'READY' AND transmit_at IS NULL"
DUE = "next_step_at IS NOT NULL AND lease_owner IS NULL"
HELD = "lease_owner IS NOT NULL"
RECEIVED = "state = 'RECEIVED'"
ACTIVE = "('READY', 'TRANSMITTED', 'ACKNOWLEDGED')"


def upgrade() -> None:
    op.drop_index("ix_telecommands_unscheduled", table_name="telecommands")
    op.drop_index("ix_telecommands_due", table_name="telecommands")
    with op.batch_alter_table("telecommands") as batch:
        batch.add_column(sa.Column("transmit_at", UTCDateTime, nullable=True))
        batch.add_column(sa.Column("next_step_at", UTCDateTime, nullable=True))
    op.execute("UPDATE telecommands SET transmit_at = due_at WHERE status = 'READY'")
    op.execute(f"UPDATE telecommands SET next_step_at = due_at WHERE status IN {ACTIVE}")
    with op.batch_alter_table("telecommands") as batch:
        batch.drop_column("due_at")
    for name, column, where in (("ix_telecommands_unscheduled", "created_at", UNSCHEDULED),
                                ("ix_telecommands_next_step", "next_step_at", DUE),
                                ("ix_telecommands_lease", "lease_expires_at", HELD)):
        op.create_index(name, "telecommands", [column], postgresql_where=sa.text(where),
                        sqlite_where=sa.text(where))
    op.create_index("ix_spacecraft_commands_due", "spacecraft_commands", ["execute_at", "id"],
                    postgresql_where=sa.text(RECEIVED), sqlite_where=sa.text(RECEIVED))


def downgrade() -> None:
    op.drop_index("ix_spacecraft_commands_due", table_name="spacecraft_commands")
    for name in ("ix_telecommands_unscheduled", "ix_telecommands_next_step", "ix_telecommands_lease"):
        op.drop_index(name, table_name="telecommands")
    with op.batch_alter_table("telecommands") as batch:
        batch.add_column(sa.Column("due_at", UTCDateTime, nullable=True))
    op.execute("UPDATE telecommands SET due_at = CASE WHEN lease_owner IS NOT NULL "
               "THEN lease_expires_at ELSE next_step_at END")
    with op.batch_alter_table("telecommands") as batch:
        batch.drop_column("next_step_at")
        batch.drop_column("transmit_at")
    op.create_index("ix_telecommands_due", "telecommands", ["due_at"],
                    postgresql_where=sa.text("due_at IS NOT NULL"),
                    sqlite_where=sa.text("due_at IS NOT NULL"))
    op.create_index("ix_telecommands_unscheduled", "telecommands", ["created_at"],
                    postgresql_where=sa.text("status = 'READY' AND due_at IS NULL"),
                    sqlite_where=sa.text("status = 'READY' AND due_at IS NULL"))
