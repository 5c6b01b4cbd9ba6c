"""Verification from telemetry: a command whose catalog entry names a verifier keeps, while the
worker watches the target's telemetry and after, when that began and the value it saw
(mission_control/verifiers.py).

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-26
"""
import sqlalchemy as sa
from alembic import op

from mission_control.timeutil import UTCDateTime

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("telecommands", sa.Column("verifying_since", UTCDateTime, nullable=True))
    op.add_column("telecommands", sa.Column("verified_value", sa.Float(), nullable=True))
    op.add_column("telecommands", sa.Column("verified_at", UTCDateTime, nullable=True))


def downgrade() -> None:
    for column in ("verified_at", "verified_value", "verifying_since"):
        op.drop_column("telecommands", column)
