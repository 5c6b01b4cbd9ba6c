"""registry-api's application factory: the only place that reads settings and wires blueprints."""

from __future__ import annotations

from flask import Flask

from mission_control import auth_api
from mission_control.authweb import protect
from mission_control.db import Database
from mission_control.settings import Settings
from mission_control.web import service_app

from . import api
from .openapi import document


def create_app(settings: Settings | None = None, database: Database | None = None) -> Flask:
    """Build registry-api; tests pass their own settings and database. Reads need a viewer's
    token, writes an admin's (mission_control.authweb); the token API is ground's."""
    app = service_app(__name__, "registry-api", settings, database, document,
                      "Mission Control registry")
    app.register_blueprint(auth_api.bp)
    app.register_blueprint(api.bp)
    protect(app)
    return app
