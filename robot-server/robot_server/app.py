"""robot-server's application factory."""

from __future__ import annotations

from flask import Flask

from mission_control import metrics
from mission_control.db import Database
from mission_control.settings import Settings, get_settings
from mission_control.web import service_app

from . import api, profile
from .openapi import openapi_document
from .sweeper import Sweeper


def create_app(settings: Settings | None = None, database: Database | None = None) -> Flask:
    """Build robot-server; tests pass their own settings and database.

    The offline sweeper runs under mc-serve (gunicorn) from each worker's start to its exit
    (``background_tasks``); tests drive ``app.extensions["sweeper"].run_once()`` themselves.
    """
    settings = settings or get_settings()
    app = service_app(__name__, "robot-server", settings, database, openapi_document,
                      "robot-server")
    settings = app.extensions["settings"]
    database = app.extensions["database"]
    sweeper = Sweeper(database, settings.heartbeat_timeout)
    app.extensions["sweeper"] = sweeper
    app.extensions["background_tasks"] = [sweeper]
    metrics.add_collector(app, api.OnlineGauge(database))
    app.register_blueprint(api.bp)
    app.register_blueprint(profile.bp)
    return app
