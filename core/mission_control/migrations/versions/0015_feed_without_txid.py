"""The registry's change feed numbers every committed event when it is read, after the last
position given (registry_api/events.py): it no longer compares writers' transaction ids
with the oldest running transaction, so ``registry_events.txid`` (PostgreSQL only, migration
0006) goes.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-26
"""
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_column("registry_events", "txid")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":  # xid8 and pg_current_xact_id(): PG 13+
        op.execute("ALTER TABLE registry_events "
                   "ADD COLUMN txid xid8 DEFAULT pg_current_xact_id()")
