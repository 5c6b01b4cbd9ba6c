"""Telemetry points: on PostgreSQL a table partitioned by day on time (a DEFAULT partition for
days without one, the partitions of today and the next days created here and then by the
housekeeping), with a BRIN index on time; on SQLite one plain table. The primary key
(source, parameter, time) is the series index (on PostgreSQL it includes value).

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-26
"""
import sqlalchemy as sa
from alembic import op

from mission_control.telemetry_partitions import DEFAULT_PARTITION, ensure_ahead
from mission_control.timeutil import UTCDateTime, utcnow

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        op.create_table(
            "telemetry_points",
            sa.Column("source", sa.String(64), nullable=False),
            sa.Column("parameter", sa.String(64), nullable=False),
            sa.Column("time", UTCDateTime, nullable=False),
            sa.Column("value", sa.Float, nullable=False),
            sa.Column("unit", sa.String(16), nullable=True),
            sa.PrimaryKeyConstraint("source", "parameter", "time"),
        )
        return
    op.execute(
        'CREATE TABLE telemetry_points ('
        ' source VARCHAR(64) NOT NULL,'
        ' parameter VARCHAR(64) NOT NULL,'
        ' "time" TIMESTAMP WITH TIME ZONE NOT NULL,'
        ' value FLOAT NOT NULL,'
        ' unit VARCHAR(16),'
        # value rides along in the key's index: a chart's buckets are read from the index
        # alone (an index-only scan), not from the table's pages.
        ' PRIMARY KEY (source, parameter, "time") INCLUDE (value)'
        ') PARTITION BY RANGE ("time")')
    op.execute(f"CREATE TABLE {DEFAULT_PARTITION} PARTITION OF telemetry_points DEFAULT")
    op.execute('CREATE INDEX ix_telemetry_points_time ON telemetry_points USING brin ("time")')
    ensure_ahead(bind, utcnow().date())


def downgrade() -> None:
    op.drop_table("telemetry_points")  # and every partition with it, on PostgreSQL
