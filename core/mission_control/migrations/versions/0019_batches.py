"""Fleet-wide commands (issue 12): the batches table and telecommands.batch_id, indexed for
the roll-up's GROUP BY.

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-26
"""
import sqlalchemy as sa
from alembic import op

from mission_control.timeutil import UTCDateTime

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "batches",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("command_name", sa.String(64), nullable=False),
        sa.Column("args", sa.JSON, nullable=False),
        sa.Column("module", sa.String(64), nullable=True),
        sa.Column("selector", sa.JSON, nullable=True),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
    )
    op.create_index("ix_batches_created_at", "batches", ["created_at"])
    with op.batch_alter_table("telecommands") as table:
        table.add_column(sa.Column("batch_id", sa.Uuid, nullable=True))
        table.create_foreign_key("fk_telecommands_batch_id", "batches", ["batch_id"], ["id"])
    op.create_index("ix_telecommands_batch_id", "telecommands", ["batch_id"])


def downgrade() -> None:
    op.drop_index("ix_telecommands_batch_id", "telecommands")
    with op.batch_alter_table("telecommands") as table:
        table.drop_constraint("fk_telecommands_batch_id", type_="foreignkey")
        table.drop_column("batch_id")
    op.drop_index("ix_batches_created_at", "batches")
    op.drop_table("batches")
