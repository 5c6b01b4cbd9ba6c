"""Index the worker's claim order: active commands by due time only.

A claimed command's due time is its lease expiry, so the claim (``due_at <= now ORDER BY
due_at LIMIT n``) reads only rows that are really due; final commands have no due time and
are left out of the index.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_telecommands_due", "telecommands", ["due_at"],
                    postgresql_where=sa.text("due_at IS NOT NULL"),
                    sqlite_where=sa.text("due_at IS NOT NULL"))


def downgrade() -> None:
    op.drop_index("ix_telecommands_due", table_name="telecommands")
