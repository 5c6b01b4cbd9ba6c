"""ground's application factory: the only place that reads settings and wires blueprints."""

from __future__ import annotations

from flask import Flask

from mission_control.db import Database
from mission_control.logs import configure_logging
from mission_control.settings import Settings, get_settings
from mission_control.web import docs_blueprint, health_blueprint, register_error_handlers

from . import api, pages
from .openapi import document


def create_app(settings: Settings | None = None, database: Database | None = None) -> Flask:
    settings = settings or get_settings()
    configure_logging("ground", settings.log_level)
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.config["SETTINGS"] = settings
    app.json.sort_keys = False
    app.extensions["database"] = database or Database(settings.database_url)
    register_error_handlers(app)
    app.register_blueprint(health_blueprint(lambda: app.extensions["database"], "ground"))
    app.register_blueprint(docs_blueprint(document, "Mission Control ground"))
    app.register_blueprint(api.bp)
    app.register_blueprint(pages.bp)
    return app
