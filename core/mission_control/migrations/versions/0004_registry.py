"""Registry tables: workspaces > projects > levels > robots and fixed assets, robot modules,
and the registry's change events.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op

from mission_control.timeutil import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer, "sqlite")
STATUS_CHECK = "status IN ('IDLE','RUNNING','FAILED')"


def _common(parent: tuple[str, str, bool] | None = None) -> list[sa.Column]:
    columns = [sa.Column("id", sa.Uuid, primary_key=True)]
    if parent is not None:
        name, table, nullable = parent
        columns.append(sa.Column(name, sa.Uuid, sa.ForeignKey(f"{table}.id", ondelete="CASCADE"),
                                 nullable=nullable))
    columns.append(sa.Column("name", sa.String(100), nullable=False))
    return columns


def _timestamps() -> list[sa.Column]:
    return [sa.Column("created_at", UTCDateTime, nullable=False),
            sa.Column("updated_at", UTCDateTime, nullable=False)]


def upgrade() -> None:
    op.create_table(
        "registry_workspaces", *_common(),
        sa.Column("description", sa.Text, nullable=False),
        *_timestamps(),
        sa.UniqueConstraint("name", name="uq_registry_workspaces_name"),
    )
    op.create_table(
        "registry_projects", *_common(("workspace_id", "registry_workspaces", False)),
        sa.Column("description", sa.Text, nullable=False),
        *_timestamps(),
        sa.UniqueConstraint("workspace_id", "name", name="uq_registry_projects_workspace_name"),
    )
    op.create_table(
        "registry_levels", *_common(("project_id", "registry_projects", False)),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("elevation", sa.Float, nullable=False),
        *_timestamps(),
        sa.UniqueConstraint("project_id", "name", name="uq_registry_levels_project_name"),
    )
    op.create_table(
        "registry_robots", *_common(("level_id", "registry_levels", True)),
        sa.Column("owner", sa.String(100), nullable=False),
        sa.Column("owner_email", sa.String(254), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("last_online", UTCDateTime, nullable=True),
        sa.Column("network_ssid", sa.String(32), nullable=True),
        sa.Column("network_password_hash", sa.String(200), nullable=True),
        sa.Column("ip_address", sa.String(45), nullable=True),
        sa.Column("port", sa.Integer, nullable=True),
        sa.Column("password_hash", sa.String(200), nullable=True),
        *_timestamps(),
        sa.UniqueConstraint("level_id", "name", name="uq_registry_robots_level_name"),
        sa.CheckConstraint(STATUS_CHECK, name="ck_registry_robots_status"),
    )
    op.create_index("uq_registry_robots_unplaced_name", "registry_robots", ["name"], unique=True,
                    postgresql_where=sa.text("level_id IS NULL"),
                    sqlite_where=sa.text("level_id IS NULL"))
    op.create_table(
        "registry_modules", *_common(("robot_id", "registry_robots", False)),
        sa.Column("type", sa.String(50), nullable=False),
        sa.Column("ip_address", sa.String(45), nullable=True),
        sa.Column("port", sa.Integer, nullable=True),
        sa.Column("last_online", UTCDateTime, nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        *_timestamps(),
        sa.UniqueConstraint("robot_id", "name", name="uq_registry_modules_robot_name"),
        sa.CheckConstraint(STATUS_CHECK, name="ck_registry_modules_status"),
    )
    op.create_table(
        "registry_fixed_assets", *_common(("level_id", "registry_levels", False)),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("asset_type", sa.String(50), nullable=False),
        sa.Column("x", sa.Float, nullable=False),
        sa.Column("y", sa.Float, nullable=False),
        sa.Column("z", sa.Float, nullable=False),
        *_timestamps(),
        sa.UniqueConstraint("level_id", "name", name="uq_registry_fixed_assets_level_name"),
    )
    for table, column in (("registry_projects", "workspace_id"), ("registry_levels", "project_id"),
                          ("registry_robots", "level_id"), ("registry_robots", "status"),
                          ("registry_modules", "robot_id"), ("registry_modules", "status"),
                          ("registry_fixed_assets", "level_id")):
        op.create_index(f"ix_{table}_{column}", table, [column])
    op.create_table(
        "registry_events",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("entity", sa.String(32), nullable=False),
        sa.Column("entity_id", sa.Uuid, nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("changed", sa.JSON, nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
    )


def downgrade() -> None:
    for table in ("registry_events", "registry_fixed_assets", "registry_modules",
                  "registry_robots", "registry_levels", "registry_projects", "registry_workspaces"):
        op.drop_table(table)
