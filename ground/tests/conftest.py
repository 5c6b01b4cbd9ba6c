"""Fixtures of the ground tests: apps on the shared ``database`` fixture (both backends)."""

from __future__ import annotations

from typing import Any, Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from mission_control.db import Database
from mission_control.settings import Settings
from ground.app import create_app

AppFactory = Callable[..., Flask]


@pytest.fixture
def make_app(database: Database) -> AppFactory:
    """Build a ground app on the test database; keyword arguments override settings."""

    def build(**overrides: Any) -> Flask:
        return create_app(Settings(database_url=database.url, **overrides), database=database)

    return build


@pytest.fixture
def app(make_app: AppFactory) -> Flask:
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()
