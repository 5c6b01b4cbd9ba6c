"""Time-tagged commands and contact windows (issue 12, point 2): ``not_before`` and
``expires_at`` on telecommands (a partial index for the worker's expiry sweep), and
``target_passes``, the contact windows of a target.

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-26
"""
import sqlalchemy as sa
from alembic import op

from mission_control.timeutil import UTCDateTime

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

EXPIRING = sa.text("status = 'READY' AND expires_at IS NOT NULL")
BigId = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("telecommands") as batch:
        batch.add_column(sa.Column("not_before", UTCDateTime, nullable=True))
        batch.add_column(sa.Column("expires_at", UTCDateTime, nullable=True))
    op.create_index("ix_telecommands_expiry", "telecommands", ["expires_at"],
                    postgresql_where=EXPIRING, sqlite_where=EXPIRING)
    op.create_table(
        "target_passes",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("target_id", sa.String(64),
                  sa.ForeignKey("targets.id", ondelete="CASCADE"), nullable=False),
        sa.Column("start_at", UTCDateTime, nullable=False),
        sa.Column("end_at", UTCDateTime, nullable=False),
        sa.CheckConstraint("start_at < end_at", name="ck_target_passes_order"),
    )
    op.create_index("ix_target_passes_target_start", "target_passes", ["target_id", "start_at"])


def downgrade() -> None:
    op.drop_index("ix_target_passes_target_start", table_name="target_passes")
    op.drop_table("target_passes")
    op.drop_index("ix_telecommands_expiry", table_name="telecommands")
    with op.batch_alter_table("telecommands") as batch:
        batch.drop_column("expires_at")
        batch.drop_column("not_before")
