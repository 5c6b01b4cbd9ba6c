"""Fixtures of the spacecraft tests: apps on the shared ``database`` fixture (both backends).

Every app's test clients present the uplink key, as the command-sender does; ``anonymous``
is a client without it.
"""

from __future__ import annotations

import uuid
from typing import Any, Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from mission_control.catalog import commands_for
from mission_control.db import Database
from mission_control.settings import Settings
from mission_control.testing import bearer
from spacecraft import executor
from spacecraft.app import create_app
from spacecraft.executor import Executor

AppFactory = Callable[..., Flask]
UPLINK_KEY = "test-uplink-key-" + uuid.uuid4().hex


class KeyedClient(FlaskClient):
    """A test client that sends Authorization: Bearer <the test UPLINK_KEY> on every call."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.environ_base["HTTP_AUTHORIZATION"] = bearer(UPLINK_KEY)["Authorization"]


@pytest.fixture(autouse=True)
def _no_executor_threads():
    """No executor thread of another test (or suite) runs while a test drives its own."""
    executor.stop_all()
    yield
    executor.stop_all()


@pytest.fixture
def make_app(database: Database, var_dir) -> AppFactory:
    """Build a spacecraft app on the test database; commands are due at once and never fail
    unless the test overrides a setting. Its executor runs only when the test says so. Its
    test clients carry the uplink key."""

    def build(**overrides: Any) -> Flask:
        values: dict[str, Any] = {"database_url": database.url, "max_stage_delay_s": 0,
                                  "execution_failure_rate": 0, "var_dir": var_dir,
                                  "uplink_key": UPLINK_KEY, **overrides}
        app = create_app(Settings(**values), database, executor_on_demand=False)
        app.test_client_class = KeyedClient
        return app

    return build


@pytest.fixture
def app(make_app: AppFactory) -> Flask:
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def anonymous(app: Flask) -> FlaskClient:
    """A client without the uplink key."""
    client = app.test_client()
    del client.environ_base["HTTP_AUTHORIZATION"]
    return client


@pytest.fixture
def run_executor(app: Flask) -> Callable[[], int]:
    """Run the app's executor until nothing is due; how many commands it ran."""
    return app.extensions["executor"].run_until_idle


def executor_of(app: Flask) -> Executor:
    return app.extensions["executor"]


def uplink(command_name: str = "PING", args: dict[str, Any] | None = None,
           command_id: str | None = None, **extra: Any) -> dict[str, Any]:
    """The body of POST /commands as the command-sender sends it: a hazardous command
    carries who confirmed it (``confirmed_by``) unless ``extra`` says otherwise."""
    spec = commands_for("spacecraft").get(command_name)
    confirmed = {"confirmed_by": "operator"} if spec is not None and spec.hazardous else {}
    return {"id": command_id or str(uuid.uuid4()), "command_name": command_name,
            "args": args or {}, "module_id": None, **confirmed, **extra}


@pytest.fixture
def command() -> Callable[..., dict[str, Any]]:
    return uplink
