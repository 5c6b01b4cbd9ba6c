"""Registry events get their feed position when they are read, not a write lock when written.

An event's id comes from a sequence at insert time, so concurrent writers can commit ids out
of order. Instead of serialising writers, each event now records the transaction that wrote
it (``txid``, PostgreSQL only: ``pg_current_xact_id()``), and the feed numbers events
(``position``, the consumers' cursor) only once every transaction that could still add an
earlier one has ended. See registry_api/events.py.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.add_column("registry_events", sa.Column("position", BigId, nullable=True))
    if op.get_bind().dialect.name == "postgresql":  # xid8 and pg_current_xact_id(): PostgreSQL 13+
        op.execute("ALTER TABLE registry_events "
                   "ADD COLUMN txid xid8 DEFAULT pg_current_xact_id()")
    op.execute("UPDATE registry_events SET position = id")  # written under the old write lock
    op.create_index("uq_registry_events_position", "registry_events", ["position"], unique=True)
    op.create_index("ix_registry_events_unnumbered", "registry_events", ["id"],
                    postgresql_where=sa.text("position IS NULL"),
                    sqlite_where=sa.text("position IS NULL"))


def downgrade() -> None:
    op.drop_index("ix_registry_events_unnumbered", "registry_events")
    op.drop_index("uq_registry_events_position", "registry_events")
    if op.get_bind().dialect.name == "postgresql":
        op.drop_column("registry_events", "txid")
    op.drop_column("registry_events", "position")
