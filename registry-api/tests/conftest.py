"""Fixtures of the registry tests: an app on the shared ``database`` fixture (both backends) and
small factories that create a resource with its whole parent chain over the API."""

from __future__ import annotations

import itertools
from typing import Any, Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from mission_control.db import Database
from mission_control.settings import Settings
from mission_control.testing import token_for
from registry_api.app import create_app

PREFIX = "/api/v1"
_names = itertools.count(1)


def required_fields(path: str) -> dict[str, Any]:
    """The fields a new item of ``path`` needs besides its name and parent."""
    return {"workspaces": {}, "projects": {}, "levels": {},
            "robots": {"owner": "Ada", "owner_email": "ada@example.com"},
            "modules": {"type": "arm"},
            "fixed-assets": {"asset_type": "charger"}}[path]


class Registry:
    """``registry.robot(name="r2")`` POSTs a robot (and a workspace, project, level for it)."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def create(self, path: str, **fields: Any) -> dict[str, Any]:
        response = self.client.post(f"{PREFIX}/{path}", json=fields)
        assert response.status_code == 201, response.get_data(as_text=True)
        return response.get_json()

    def workspace(self, **fields: Any) -> dict[str, Any]:
        return self.create("workspaces", **{"name": f"workspace-{next(_names)}", **fields})

    def project(self, **fields: Any) -> dict[str, Any]:
        if "workspace_id" not in fields:
            fields["workspace_id"] = self.workspace()["id"]
        return self.create("projects", **{"name": f"project-{next(_names)}", **fields})

    def level(self, **fields: Any) -> dict[str, Any]:
        if "project_id" not in fields:
            fields["project_id"] = self.project()["id"]
        return self.create("levels", **{"name": f"level-{next(_names)}", "elevation": 0.0,
                                        **fields})

    def robot(self, **fields: Any) -> dict[str, Any]:
        if "level_id" not in fields:
            fields["level_id"] = self.level()["id"]
        return self.create("robots", **{"name": f"robot-{next(_names)}", "owner": "Ada",
                                        "owner_email": "ada@example.com", **fields})

    def module(self, **fields: Any) -> dict[str, Any]:
        if "robot_id" not in fields:
            fields["robot_id"] = self.robot()["id"]
        return self.create("modules", **{"name": f"module-{next(_names)}", "type": "arm",
                                         **fields})

    def fixed_asset(self, **fields: Any) -> dict[str, Any]:
        if "level_id" not in fields:
            fields["level_id"] = self.level()["id"]
        return self.create("fixed-assets", **{"name": f"asset-{next(_names)}",
                                              "asset_type": "charger",
                                              "position": {"x": 1.0, "y": 2.0, "z": 0.0},
                                              **fields})

    def of(self, path: str, **fields: Any) -> dict[str, Any]:
        return getattr(self, path.replace("-", "_").removesuffix("s"))(**fields)


@pytest.fixture
def app(database: Database, var_dir) -> Flask:
    return create_app(Settings(database_url=database.url, var_dir=var_dir), database=database)


@pytest.fixture
def admin_token(database: Database) -> str:
    return token_for(database, "admin", "admin")


@pytest.fixture
def new_client(app: Flask, admin_token: str) -> Callable[[], FlaskClient]:
    """Makes clients with an admin's bearer token (registry writes need admin): one per
    thread in the concurrency tests, since a test client is not shared between threads."""

    def make() -> FlaskClient:
        client = app.test_client()
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {admin_token}"
        return client

    return make


@pytest.fixture
def client(new_client: Callable[[], FlaskClient]) -> FlaskClient:
    """A client with an admin's bearer token."""
    return new_client()


@pytest.fixture
def anonymous(app: Flask) -> FlaskClient:
    """A client with no credentials at all."""
    return app.test_client()


@pytest.fixture
def registry(client: FlaskClient) -> Registry:
    return Registry(client)


