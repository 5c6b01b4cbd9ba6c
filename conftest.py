"""Test fixtures shared by every suite: a real database, SQLite and PostgreSQL both.

Tests that take ``database`` run once per backend. PostgreSQL gets a throwaway database per
run, created on the server at TEST_POSTGRES_ADMIN_URL and dropped afterwards. Where no server
answers, those runs are skipped with the reason, except in CI (CI=true) or when
MC_REQUIRE_POSTGRES=1, where they fail: there the PostgreSQL run is mandatory.
"""

from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import create_engine, delete, text, update
from sqlalchemy.engine import make_url

from argon2 import PasswordHasher

from mission_control import passwords
from mission_control.alert_models import Alert, Limit, LimitCount
from mission_control.authority_models import TargetControl
from mission_control.auth_models import ApiToken, AuthFailure, User
from mission_control.batch_models import Batch
from mission_control.db import Database
from mission_control.pass_models import TargetPass
from mission_control.migrate import upgrade
from mission_control.models import (
    SPACECRAFT_TARGET_ID, SpacecraftState, Target, Telecommand, TelecommandHistory, UplinkedCommand,
    Worker,
)
from mission_control.progress_models import CommandPhase, CommandProgress
from mission_control.registry_models import (
    FixedAsset, Level, Module, Project, RegistryEvent, Robot, Workspace,
)
from mission_control.stack_models import Stack, StackStep
from mission_control.robot_models import (
    Lease, RobotCommand, RobotConnectionEvent, RobotSession,
)
from mission_control.telemetry_models import TelemetryPoint
from mission_control.testing import in_ci
from mission_control.timeutil import utcnow

ADMIN_URL = os.environ.get("TEST_POSTGRES_ADMIN_URL",
                           "postgresql+psycopg2://postgres@127.0.0.1:5432/test")


def _postgres_required() -> bool:
    return in_ci() or \
        os.environ.get("MC_REQUIRE_POSTGRES") == "1"


def _throwaway_postgres():
    name = f"mc_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:
        admin.dispose()
        message = f"PostgreSQL at {make_url(ADMIN_URL).render_as_string()} is not reachable: {error}"
        if _postgres_required():
            pytest.fail(message + " (required in CI)", pytrace=False)
        pytest.skip(message)
    url = make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    return url, lambda: _drop(admin, name)


def _drop(admin, name: str) -> None:
    with admin.connect() as connection:
        connection.execute(text(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"), {"n": name})
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request, tmp_path_factory):
    """A migrated, empty database of each backend, for the whole run."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'mission-control.db'}"
        cleanup = None
    else:
        url, cleanup = _throwaway_postgres()
    upgrade(url)
    yield url
    if cleanup:
        cleanup()


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request, tmp_path):
    """A new database of each backend with no tables yet, for tests of the migrations."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    url, cleanup = _throwaway_postgres()
    yield url
    cleanup()


def reset_database(database: Database) -> None:
    """Bring the database back to its freshly migrated content."""
    with database.transaction() as session:
        session.execute(delete(TargetControl))
        for alert_table in (Alert, Limit, LimitCount):
            session.execute(delete(alert_table))
        session.execute(delete(StackStep))
        session.execute(delete(TelecommandHistory))
        session.execute(delete(Telecommand))
        session.execute(delete(Stack))
        session.execute(delete(Batch))
        session.execute(delete(UplinkedCommand))
        session.execute(delete(TargetPass))
        session.execute(delete(Worker))
        session.execute(delete(Target).where(Target.id != SPACECRAFT_TARGET_ID))
        session.execute(update(SpacecraftState).values(
            heater_on=False, roll_deg=0.0, pitch_deg=0.0, yaw_deg=0.0, solar_array_deployed=False,
            images_captured=0, boot_count=0, updated_at=utcnow()))
        for robot_table in (RobotCommand, RobotConnectionEvent, RobotSession, Lease):
            session.execute(delete(robot_table))
        for registry_table in (RegistryEvent, Module, FixedAsset, Robot, Level, Project, Workspace):
            session.execute(delete(registry_table))
        session.execute(delete(TelemetryPoint))
        for progress_table in (CommandPhase, CommandProgress):  # issue 12: job progress
            session.execute(delete(progress_table))
        for auth_table in (AuthFailure, ApiToken, User):
            session.execute(delete(auth_table))


@pytest.fixture(scope="session")
def _session_database(database_url):
    database = Database(database_url)
    yield database
    database.dispose()


@pytest.fixture(scope="session")
def var_dir(tmp_path_factory):
    """The services' var/ in tests (generated SECRET_KEY and UPLINK_KEY land here)."""
    return tmp_path_factory.mktemp("var")


@pytest.fixture
def database(_session_database):
    """The run's database of one backend, emptied before the test."""
    reset_database(_session_database)
    return _session_database


@pytest.fixture
def fast_hashing(monkeypatch):
    """Cheap argon2 parameters, for tests that hash many passwords and do not measure hashing
    (the fuzzers' generated users and sign-ins); the services keep argon2-cffi's defaults."""
    monkeypatch.setattr(passwords, "hasher", PasswordHasher(time_cost=1, memory_cost=64,
                                                            parallelism=1))
    monkeypatch.setattr(passwords, "_dummy_hash", None)  # an unknown user's check: cheap too
