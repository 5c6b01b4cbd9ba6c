"""Telecommands, their history, targets (spacecraft seeded), spacecraft tables, pickup NOTIFY.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from mission_control.timeutil import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    targets = op.create_table(
        "targets",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("parent_id", sa.String(64), sa.ForeignKey("targets.id"), nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "telecommands",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("target_id", sa.String(64), sa.ForeignKey("targets.id"), nullable=False),
        sa.Column("module_id", sa.String(64), nullable=True),
        sa.Column("command_name", sa.String(64), nullable=False),
        sa.Column("args", sa.JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("status_reason", sa.Text, nullable=True),
        sa.Column("operator", sa.String(100), nullable=False),
        sa.Column("idempotency_key", sa.String(200), nullable=True, unique=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("due_at", UTCDateTime, nullable=True),
        sa.Column("lease_owner", sa.String(100), nullable=True),
        sa.Column("lease_expires_at", UTCDateTime, nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.CheckConstraint(
            "status IN ('READY','TRANSMITTED','ACKNOWLEDGED','EXECUTED','FAILED','CANCELLED')",
            name="ck_telecommands_status"),
    )
    op.create_index("ix_telecommands_target_id", "telecommands", ["target_id"])
    op.create_index("ix_telecommands_status_due", "telecommands", ["status", "due_at"])
    op.create_index("ix_telecommands_created", "telecommands", ["created_at"])
    op.create_table(
        "telecommand_history",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("telecommand_id", sa.Uuid,
                  sa.ForeignKey("telecommands.id", ondelete="CASCADE"), nullable=False),
        sa.Column("from_status", sa.String(16), nullable=True),
        sa.Column("to_status", sa.String(16), nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("reason", sa.Text, nullable=True),
    )
    op.create_index("ix_telecommand_history_telecommand_id", "telecommand_history", ["telecommand_id"])
    op.create_table(
        "spacecraft_commands",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("command_name", sa.String(64), nullable=False),
        sa.Column("args", sa.JSON, nullable=False),
        sa.Column("module_id", sa.String(64), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("detail", sa.Text, nullable=True),
        sa.Column("executions", sa.Integer, nullable=False, server_default="0"),
        sa.Column("receipts", sa.Integer, nullable=False, server_default="1"),
        sa.Column("received_at", UTCDateTime, nullable=False),
        sa.Column("execute_at", UTCDateTime, nullable=False),
        sa.Column("finished_at", UTCDateTime, nullable=True),
    )
    op.create_index("ix_spacecraft_commands_execute_at", "spacecraft_commands", ["execute_at"])
    state = op.create_table(
        "spacecraft_state",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("heater_on", sa.Boolean, nullable=False),
        sa.Column("roll_deg", sa.Float, nullable=False),
        sa.Column("pitch_deg", sa.Float, nullable=False),
        sa.Column("yaw_deg", sa.Float, nullable=False),
        sa.Column("solar_array_deployed", sa.Boolean, nullable=False),
        sa.Column("images_captured", sa.Integer, nullable=False),
        sa.Column("boot_count", sa.Integer, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    now = datetime.now(UTC)
    op.bulk_insert(targets, [{"id": "spacecraft", "kind": "spacecraft", "name": "Spacecraft",
                              "parent_id": None, "created_at": now}])
    op.bulk_insert(state, [{"id": 1, "heater_on": False, "roll_deg": 0.0, "pitch_deg": 0.0,
                            "yaw_deg": 0.0, "solar_array_deployed": False, "images_captured": 0,
                            "boot_count": 0, "updated_at": now}])
    if op.get_bind().dialect.name == "postgresql":
        # One notification per inserting statement wakes idle command-senders at once.
        op.execute("""
            CREATE FUNCTION telecommands_notify() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN PERFORM pg_notify('telecommands', ''); RETURN NULL; END $$
        """)
        op.execute("""
            CREATE TRIGGER telecommands_notify AFTER INSERT ON telecommands
            FOR EACH STATEMENT EXECUTE FUNCTION telecommands_notify()
        """)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS telecommands_notify ON telecommands")
        op.execute("DROP FUNCTION IF EXISTS telecommands_notify()")
    for table in ("spacecraft_state", "spacecraft_commands", "telecommand_history",
                  "telecommands", "targets"):
        op.drop_table(table)
