"""The Alembic migrations on both databases: down to nothing and up again, and the data step of
0006 (events written before it get their feed position)."""

from __future__ import annotations

import uuid

from alembic import command
from sqlalchemy import create_engine, inspect, text

from mission_control.migrate import alembic_config, upgrade


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_every_migration_goes_down_and_up_again(empty_database_url):
    upgrade(empty_database_url)
    migrated = _tables(empty_database_url)
    assert {"telecommands", "registry_events", "workers"} <= migrated
    command.downgrade(alembic_config(empty_database_url), "base")
    assert _tables(empty_database_url) == set()
    upgrade(empty_database_url)
    assert _tables(empty_database_url) == migrated


def test_events_written_before_0006_keep_their_order_as_positions(empty_database_url):
    upgrade(empty_database_url, "0005")
    engine = create_engine(empty_database_url)
    try:
        with engine.begin() as connection:
            for action in ("created", "updated"):
                connection.execute(text(
                    "INSERT INTO registry_events (entity, entity_id, action, changed, at) "
                    "VALUES ('workspace', :entity_id, :action, '[]', CURRENT_TIMESTAMP)"),
                    {"entity_id": uuid.uuid4().hex, "action": action})
        upgrade(empty_database_url)
        with engine.connect() as connection:
            rows = connection.execute(text(
                "SELECT id, position, action FROM registry_events ORDER BY id")).all()
    finally:
        engine.dispose()
    assert [(row.position, row.action) for row in rows] == [(rows[0].id, "created"),
                                                            (rows[1].id, "updated")]


def _modelled(obj, name, type_, reflected, compare_to) -> bool:
    """Everything but what PostgreSQL alone has and only SQL uses, so the models leave it out
    on purpose: telemetry's daily partitions and BRIN index (migration 0013)."""
    if type_ == "table" and name.startswith("telemetry_points_"):
        return False
    return not (type_ == "index" and name == "ix_telemetry_points_time")


def test_the_migrations_build_the_schema_the_models_describe(database_url):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from mission_control.models import Base
    import mission_control.alert_models  # noqa: F401
    import mission_control.progress_models  # noqa: F401
    import mission_control.auth_models  # noqa: F401  (its tables are in Base.metadata)
    import mission_control.pass_models  # noqa: F401
    import mission_control.authority_models  # noqa: F401
    import mission_control.registry_models  # noqa: F401
    import mission_control.robot_models  # noqa: F401
    import mission_control.telemetry_models  # noqa: F401

    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"include_object": _modelled})
            differences = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert differences == []


def test_robots_and_modules_registered_before_0011_become_targets(empty_database_url):
    import sqlalchemy as sa

    from mission_control.timeutil import UTCDateTime, utcnow

    upgrade(empty_database_url, "0010")
    robot_id, module_id = uuid.uuid4(), uuid.uuid4()
    robots = sa.table("registry_robots", sa.column("id", sa.Uuid), sa.column("name"),
                      sa.column("owner"), sa.column("owner_email"), sa.column("status"),
                      sa.column("created_at", UTCDateTime), sa.column("updated_at", UTCDateTime))
    modules = sa.table("registry_modules", sa.column("id", sa.Uuid), sa.column("robot_id", sa.Uuid),
                       sa.column("name"), sa.column("type"), sa.column("status"),
                       sa.column("created_at", UTCDateTime), sa.column("updated_at", UTCDateTime))
    engine = create_engine(empty_database_url)
    try:
        now = utcnow()
        with engine.begin() as connection:
            connection.execute(sa.insert(robots).values(
                id=robot_id, name="Rover", owner="o", owner_email="o@example.com", status="IDLE",
                created_at=now, updated_at=now))
            connection.execute(sa.insert(modules).values(
                id=module_id, robot_id=robot_id, name="Arm", type="arm", status="IDLE",
                created_at=now, updated_at=now))
        upgrade(empty_database_url)
        with engine.connect() as connection:
            rows = connection.execute(text(
                "SELECT id, kind, name, parent_id, removed_at FROM targets ORDER BY kind")).all()
    finally:
        engine.dispose()
    assert [tuple(row) for row in rows] == [
        (str(module_id), "module", "Arm", str(robot_id), None),
        (str(robot_id), "robot", "Rover", None, None),
        ("spacecraft", "spacecraft", "Spacecraft", None, None)]
