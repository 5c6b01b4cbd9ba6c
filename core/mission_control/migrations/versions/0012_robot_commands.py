"""robot-server: commands queued for robots and their modules (the uplink protocol's
storage on robot-server), with a partial index for each robot's pending commands and one for
the sweeper's expiry pass.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-25
"""
import sqlalchemy as sa
from alembic import op

from mission_control.timeutil import UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

QUEUED = sa.text("state = 'RECEIVED'")


def upgrade() -> None:
    op.create_table(
        "robot_commands",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("robot_id", sa.Uuid, nullable=False),
        sa.Column("module_id", sa.Uuid, nullable=True),
        sa.Column("command_name", sa.String(64), nullable=False),
        sa.Column("args", sa.JSON, nullable=False),
        sa.Column("confirmed_by", sa.String(64), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("detail", sa.Text, nullable=True),
        sa.Column("executions", sa.Integer, nullable=False),
        sa.Column("receipts", sa.Integer, nullable=False),
        sa.Column("deliveries", sa.Integer, nullable=False),
        sa.Column("received_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
        sa.Column("delivered_at", UTCDateTime, nullable=True),
        sa.Column("acknowledged_at", UTCDateTime, nullable=True),
        sa.Column("finished_at", UTCDateTime, nullable=True),
        sa.Column("module_status_after", sa.String(16), nullable=True),
        sa.CheckConstraint("state IN ('RECEIVED','EXECUTING','EXECUTED','FAILED')",
                           name="ck_robot_commands_state"),
        sa.CheckConstraint("executions IN (0, 1)", name="ck_robot_commands_executions"),
    )
    op.create_index("ix_robot_commands_pending", "robot_commands", ["robot_id", "received_at"],
                    postgresql_where=QUEUED, sqlite_where=QUEUED)
    op.create_index("ix_robot_commands_expiry", "robot_commands", ["expires_at"],
                    postgresql_where=QUEUED, sqlite_where=QUEUED)


def downgrade() -> None:
    op.drop_index("ix_robot_commands_expiry", "robot_commands")
    op.drop_index("ix_robot_commands_pending", "robot_commands")
    op.drop_table("robot_commands")
