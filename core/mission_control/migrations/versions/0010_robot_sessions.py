"""robot-server: robot sessions (tokens as SHA-256), connection events, the sweeper's lease,
and whether each robot is online.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-25
"""
import sqlalchemy as sa
from alembic import op

from mission_control.timeutil import UTCDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("registry_robots") as batch:
        batch.add_column(sa.Column("online", sa.Boolean, nullable=False,
                                   server_default=sa.false()))
    op.create_table(
        "robot_sessions",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("robot_id", sa.Uuid, sa.ForeignKey("registry_robots.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
        sa.Column("closed_at", UTCDateTime, nullable=True),
        sa.Column("telemetry", sa.JSON, nullable=True),
    )
    op.create_index("ix_robot_sessions_robot_id", "robot_sessions", ["robot_id"])
    op.create_table(
        "robot_connection_events",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("robot_id", sa.Uuid, sa.ForeignKey("registry_robots.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("event", sa.String(16), nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.CheckConstraint("event IN ('connect','disconnect','timeout')",
                           name="ck_robot_connection_events_event"),
    )
    op.create_index("ix_robot_connection_events_robot", "robot_connection_events",
                    ["robot_id", "at"])
    op.create_table(
        "leases",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("holder", sa.String(100), nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("leases")
    op.drop_index("ix_robot_connection_events_robot", "robot_connection_events")
    op.drop_table("robot_connection_events")
    op.drop_index("ix_robot_sessions_robot_id", "robot_sessions")
    op.drop_table("robot_sessions")
    with op.batch_alter_table("registry_robots") as batch:
        batch.drop_column("online")
