"""Command stacks (issue 12, point 3): stacks, their steps, and telecommands.stack_id.

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-26
"""
import sqlalchemy as sa
from alembic import op

from mission_control.timeutil import UTCDateTime

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stacks",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("target_id", sa.String(64), sa.ForeignKey("targets.id"), nullable=False),
        sa.Column("name", sa.String(200), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("status_reason", sa.Text, nullable=True),
        sa.Column("on_failure", sa.String(16), nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.CheckConstraint("status IN ('RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED')",
                           name="ck_stacks_status"),
        sa.CheckConstraint("on_failure IN ('stop', 'continue')", name="ck_stacks_on_failure"),
    )
    op.create_index("ix_stacks_status_created", "stacks", ["status", "created_at"])
    op.create_index("ix_stacks_created", "stacks", ["created_at"])
    op.create_table(
        "stack_steps",
        sa.Column("stack_id", sa.Uuid, sa.ForeignKey("stacks.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("command_name", sa.String(64), nullable=False),
        sa.Column("module_id", sa.String(64), nullable=True),
        sa.Column("args", sa.JSON, nullable=False),
        sa.Column("confirm", sa.Boolean, nullable=False),
        sa.Column("wait_for", sa.String(16), nullable=False),
        sa.Column("delay_s", sa.Float, nullable=False),
        sa.Column("telecommand_id", sa.Uuid, sa.ForeignKey("telecommands.id"), nullable=True,
                  unique=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.CheckConstraint("wait_for IN ('ACKNOWLEDGED', 'EXECUTED')",
                           name="ck_stack_steps_wait"),
        sa.CheckConstraint("state IN ('PENDING', 'SENT', 'SKIPPED')", name="ck_stack_steps_state"),
        sa.CheckConstraint("position >= 1", name="ck_stack_steps_position"),
    )
    with op.batch_alter_table("telecommands") as batch:
        batch.add_column(sa.Column("stack_id", sa.Uuid, nullable=True))
        batch.create_foreign_key("fk_telecommands_stack", "stacks", ["stack_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("telecommands") as batch:
        batch.drop_constraint("fk_telecommands_stack", type_="foreignkey")
        batch.drop_column("stack_id")
    op.drop_table("stack_steps")
    op.drop_index("ix_stacks_created", "stacks")
    op.drop_index("ix_stacks_status_created", "stacks")
    op.drop_table("stacks")
