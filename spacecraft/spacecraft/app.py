"""The spacecraft's application factory."""

from __future__ import annotations

from flask import Flask

from mission_control.db import Database
from mission_control.settings import Settings
from mission_control.web import service_app

from . import uplink
from .onboard import Onboard
from .openapi import openapi_document


def create_app(settings: Settings | None = None, database: Database | None = None) -> Flask:
    """Build the spacecraft service; tests pass their own settings and database."""
    app = service_app(__name__, "spacecraft", settings, database, openapi_document, "Spacecraft")
    settings = app.extensions["settings"]
    app.extensions["onboard"] = Onboard(
        app.extensions["database"], max_stage_delay_s=settings.max_stage_delay_s,
        execution_failure_rate=settings.execution_failure_rate)
    app.register_blueprint(uplink.bp)
    return app
