"""Fixtures of the spacecraft tests: apps on the shared ``database`` fixture (both backends)."""

from __future__ import annotations

import uuid
from typing import Any, Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from mission_control.db import Database
from mission_control.settings import Settings
from spacecraft import executor
from spacecraft.app import create_app
from spacecraft.executor import Executor

AppFactory = Callable[..., Flask]


@pytest.fixture(autouse=True)
def _no_executor_threads():
    """No executor thread of another test (or suite) runs while a test drives its own."""
    executor.stop_all()
    yield
    executor.stop_all()


@pytest.fixture
def make_app(database: Database) -> AppFactory:
    """Build a spacecraft app on the test database; commands are due at once and never fail
    unless the test overrides a setting. Its executor runs only when the test says so."""

    def build(**overrides: Any) -> Flask:
        values: dict[str, Any] = {"database_url": database.url, "max_stage_delay_s": 0,
                                  "execution_failure_rate": 0, **overrides}
        return create_app(Settings(**values), database, executor_on_demand=False)

    return build


@pytest.fixture
def app(make_app: AppFactory) -> Flask:
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def run_executor(app: Flask) -> Callable[[], int]:
    """Run the app's executor until nothing is due; how many commands it ran."""
    return app.extensions["executor"].run_until_idle


def executor_of(app: Flask) -> Executor:
    return app.extensions["executor"]


def uplink(command_name: str = "PING", args: dict[str, Any] | None = None,
           command_id: str | None = None, **extra: Any) -> dict[str, Any]:
    """The body of POST /commands as the command-sender sends it."""
    return {"id": command_id or str(uuid.uuid4()), "command_name": command_name,
            "args": args or {}, "module_id": None, **extra}


@pytest.fixture
def command() -> Callable[..., dict[str, Any]]:
    return uplink
