"""The spacecraft's application factory."""

from __future__ import annotations

import logging

from flask import Flask

from mission_control.db import Database
from mission_control.logs import configure_logging
from mission_control.settings import Settings, get_settings
from mission_control.web import docs_blueprint, health_blueprint, register_error_handlers

from . import uplink
from .onboard import Onboard
from .openapi import openapi_document

SERVICE = "spacecraft"


def create_app(settings: Settings | None = None, database: Database | None = None) -> Flask:
    """Build the spacecraft service; tests pass their own settings and database."""
    settings = settings or get_settings()
    if not logging.getLogger().handlers:  # under gunicorn; a test runner has its own handlers
        configure_logging(SERVICE, settings.log_level)
    database = database or Database(settings.database_url)

    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.extensions["settings"] = settings
    app.extensions["database"] = database
    app.extensions["onboard"] = Onboard(
        database, max_stage_delay_s=settings.max_stage_delay_s,
        execution_failure_rate=settings.execution_failure_rate)

    register_error_handlers(app)
    app.register_blueprint(uplink.bp)
    app.register_blueprint(health_blueprint(lambda: database, SERVICE))
    app.register_blueprint(docs_blueprint(openapi_document, "Spacecraft"))
    return app
