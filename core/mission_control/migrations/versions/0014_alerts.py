"""Limits and alerts (issue 11): limits per source and parameter, alerts with one active
alert per source and parameter (a partial unique index), and the consecutive-sample counts of
limits with a persistence above 1. The built-in default limits live in code (limits.DEFAULTS),
not in rows.

Revision ID: 0014
Revises: 0012
Create Date: 2026-11-26
"""
import sqlalchemy as sa
from alembic import op

from mission_control.timeutil import UTCDateTime

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

ACTIVE = sa.text("state <> 'resolved'")
BigId = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "limits",
        sa.Column("source", sa.String(64), primary_key=True),
        sa.Column("parameter", sa.String(64), primary_key=True),
        sa.Column("yellow_low", sa.Float, nullable=True),
        sa.Column("yellow_high", sa.Float, nullable=True),
        sa.Column("red_low", sa.Float, nullable=True),
        sa.Column("red_high", sa.Float, nullable=True),
        sa.Column("persistence", sa.Integer, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("updated_by", sa.String(100), nullable=True),
        sa.CheckConstraint("persistence >= 1", name="ck_limits_persistence"),
    )
    op.create_table(
        "alerts",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("parameter", sa.String(64), nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("value", sa.Float, nullable=True),
        sa.Column("limit_crossed", sa.String(16), nullable=True),
        sa.Column("limit_value", sa.Float, nullable=True),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("command_id", sa.Uuid, nullable=True),
        sa.Column("opened_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("cleared", sa.Boolean, nullable=False),
        sa.Column("cleared_at", UTCDateTime, nullable=True),
        sa.Column("shelved_until", UTCDateTime, nullable=True),
        sa.Column("shelved_by", sa.String(100), nullable=True),
        sa.Column("acknowledged_by", sa.String(100), nullable=True),
        sa.Column("acknowledged_at", UTCDateTime, nullable=True),
        sa.Column("ack_comment", sa.Text, nullable=True),
        sa.Column("resolved_by", sa.String(100), nullable=True),
        sa.Column("resolved_at", UTCDateTime, nullable=True),
        sa.CheckConstraint("severity IN ('info','warning','critical')", name="ck_alerts_severity"),
        sa.CheckConstraint("state IN ('open','acknowledged','resolved')", name="ck_alerts_state"),
        sa.CheckConstraint("kind IN ('limit','offline','command')", name="ck_alerts_kind"),
    )
    op.create_index("ux_alerts_active", "alerts", ["source", "parameter"], unique=True,
                    postgresql_where=ACTIVE, sqlite_where=ACTIVE)
    op.create_index("ix_alerts_state_opened", "alerts", ["state", "opened_at"])
    op.create_table(
        "limit_counts",
        sa.Column("source", sa.String(64), primary_key=True),
        sa.Column("parameter", sa.String(64), primary_key=True),
        sa.Column("beyond_yellow", sa.Integer, nullable=False),
        sa.Column("beyond_red", sa.Integer, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("limit_counts")
    op.drop_index("ix_alerts_state_opened", "alerts")
    op.drop_index("ux_alerts_active", "alerts")
    op.drop_table("alerts")
    op.drop_table("limits")
