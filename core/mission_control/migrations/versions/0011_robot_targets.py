"""Robots and modules of the registry become telecommand targets: existing ones are copied,
and targets get ``removed_at`` (a deleted robot's target stays for its commands' history).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-25
"""
import sqlalchemy as sa
from alembic import op

from mission_control.timeutil import UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("targets") as batch:
        batch.add_column(sa.Column("removed_at", UTCDateTime, nullable=True))
    # Through typed tables, so each backend's UUID storage reads back as a UUID and is
    # written as the target id's canonical string.
    robots = sa.table("registry_robots", sa.column("id", sa.Uuid), sa.column("name"),
                      sa.column("created_at", UTCDateTime))
    modules = sa.table("registry_modules", sa.column("id", sa.Uuid),
                       sa.column("robot_id", sa.Uuid), sa.column("name"),
                       sa.column("created_at", UTCDateTime))
    targets = sa.table("targets", sa.column("id"), sa.column("kind"), sa.column("name"),
                       sa.column("parent_id"), sa.column("created_at", UTCDateTime))
    bind = op.get_bind()
    rows = [{"id": str(r.id), "kind": "robot", "name": r.name, "parent_id": None,
             "created_at": r.created_at} for r in bind.execute(sa.select(robots))]
    rows += [{"id": str(m.id), "kind": "module", "name": m.name, "parent_id": str(m.robot_id),
              "created_at": m.created_at} for m in bind.execute(sa.select(modules))]
    if rows:
        op.bulk_insert(targets, rows)


def downgrade() -> None:
    op.execute("DELETE FROM targets WHERE kind IN ('robot', 'module') AND id NOT IN "
               "(SELECT target_id FROM telecommands)")
    with op.batch_alter_table("targets") as batch:
        batch.drop_column("removed_at")
