"""Fixtures of the robot-server tests: an app on the shared ``database`` fixture (both
backends); helpers in robot_server.testing."""

from __future__ import annotations

import uuid
from typing import Any, Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from mission_control.db import Database
from mission_control.settings import Settings
from robot_server.app import create_app
from robot_server.testing import UPLINK_KEY, add_robot


@pytest.fixture
def make_app(database: Database, var_dir) -> Callable[..., Flask]:
    def build(**overrides: Any) -> Flask:
        values: dict[str, Any] = {"database_url": database.url, "var_dir": var_dir,
                                  "uplink_key": UPLINK_KEY, **overrides}
        return create_app(Settings(**values), database)

    return build


@pytest.fixture
def app(make_app) -> Flask:
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def uplink(app: Flask) -> FlaskClient:
    """A client that presents the uplink key on every call, as the command-sender does."""
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {UPLINK_KEY}"
    return client


@pytest.fixture
def robot(database: Database) -> tuple[uuid.UUID, list[uuid.UUID]]:
    return add_robot(database, modules=2)


