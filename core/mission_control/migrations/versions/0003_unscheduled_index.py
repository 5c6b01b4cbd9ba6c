"""Index the commands still waiting for a transmit time; list by status in creation order.

The worker looks for READY commands without a due time on every pass; once thousands are
scheduled, that became a scan. The (status, due_at) index is replaced by (status, created_at),
which serves the API's ?status= listing, newest first.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

UNSCHEDULED = "status = 'READY' AND due_at IS NULL"


def upgrade() -> None:
    op.drop_index("ix_telecommands_status_due", table_name="telecommands")
    op.create_index("ix_telecommands_status_created", "telecommands", ["status", "created_at"])
    op.create_index("ix_telecommands_unscheduled", "telecommands", ["created_at"],
                    postgresql_where=sa.text(UNSCHEDULED), sqlite_where=sa.text(UNSCHEDULED))


def downgrade() -> None:
    op.drop_index("ix_telecommands_unscheduled", table_name="telecommands")
    op.drop_index("ix_telecommands_status_created", table_name="telecommands")
    op.create_index("ix_telecommands_status_due", "telecommands", ["status", "due_at"])
