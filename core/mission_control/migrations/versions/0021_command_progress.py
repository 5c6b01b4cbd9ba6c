"""Progress of long-running commands (issue 12 point 7): each command's latest progress
report and the phases it went through (mission_control/progress_models.py).

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-26
"""
import sqlalchemy as sa
from alembic import op

from mission_control.timeutil import UTCDateTime

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "command_progress",
        sa.Column("command_id", sa.String(64), primary_key=True),
        sa.Column("robot_id", sa.Uuid, nullable=False),
        sa.Column("percent", sa.Float, nullable=True),
        sa.Column("phase", sa.String(64), nullable=True),
        sa.Column("done", sa.BigInteger, nullable=True),
        sa.Column("total", sa.BigInteger, nullable=True),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.CheckConstraint("percent IS NULL OR (percent >= 0 AND percent <= 100)",
                           name="ck_command_progress_percent"),
        sa.CheckConstraint("done IS NULL OR total IS NULL OR done <= total",
                           name="ck_command_progress_done"),
    )
    op.create_table(
        "command_phases",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("command_id", sa.String(64), nullable=False),
        sa.Column("phase", sa.String(64), nullable=False),
        sa.Column("started_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_command_phases_command", "command_phases", ["command_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_command_phases_command", table_name="command_phases")
    op.drop_table("command_phases")
    op.drop_table("command_progress")
