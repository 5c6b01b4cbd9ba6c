"""Fixtures of the ground tests: apps on the shared ``database`` fixture (both backends)."""

from __future__ import annotations

from typing import Any, Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from mission_control.db import Database
from mission_control.settings import Settings
from mission_control.testing import bearer_client, sign_in_client
from ground.app import create_app

AppFactory = Callable[..., Flask]


@pytest.fixture
def make_app(database: Database, var_dir) -> AppFactory:
    """Build a ground app on the test database; keyword arguments override settings."""

    def build(**overrides: Any) -> Flask:
        # Two-person approval off unless a test turns it on (test_ground_approval.py).
        values = {"database_url": database.url, "var_dir": var_dir,
                  "approval_required": "none", **overrides}
        return create_app(Settings(**values), database=database)

    return build


@pytest.fixture
def app(make_app: AppFactory) -> Flask:
    return make_app()


@pytest.fixture
def client(app: Flask, database: Database) -> FlaskClient:
    """A client signed in as "operator" (role operator): bearer token, session, CSRF token."""
    client = app.test_client()
    sign_in_client(client, database, "operator", "operator")
    return client


@pytest.fixture
def anonymous(app: Flask) -> FlaskClient:
    """A client with no credentials at all."""
    return app.test_client()


@pytest.fixture
def alice(app: Flask, database: Database) -> FlaskClient:
    """An operator, alice, with a bearer token (a second user: bob)."""
    return bearer_client(app, database, "alice")


@pytest.fixture
def bob(app: Flask, database: Database) -> FlaskClient:
    return bearer_client(app, database, "bob")
