"""robot-server's application factory."""

from __future__ import annotations

from flask import Flask

from mission_control import metrics
from mission_control.db import Database
from mission_control.settings import Settings, get_settings
from mission_control.web import service_app

from . import api, profile
from .openapi import openapi_document
from .heartbeats import HeartbeatWriter, ModuleOwners
from .sweeper import Sweeper


def create_app(settings: Settings | None = None, database: Database | None = None) -> Flask:
    """Build robot-server; tests pass their own settings and database.

    The offline sweeper and the heartbeat writer run under mc-serve (gunicorn) from each
    worker's start to its exit (``background_tasks``); tests drive
    ``app.extensions["sweeper"].run_once()`` themselves, and without a running writer each
    heartbeat is written in its request.
    """
    settings = settings or get_settings()
    app = service_app(__name__, "robot-server", settings, database, openapi_document,
                      "robot-server")
    settings = app.extensions["settings"]
    database = app.extensions["database"]
    sweeper = Sweeper(database, settings.heartbeat_timeout)
    writer = HeartbeatWriter(database, settings.heartbeat_flush_s)
    app.extensions["sweeper"] = sweeper
    app.extensions["heartbeat_writer"] = writer
    app.extensions["module_owners"] = ModuleOwners(database)
    app.extensions["background_tasks"] = [writer, sweeper]
    metrics.add_collector(app, api.OnlineGauge(database))
    app.register_blueprint(api.bp)
    app.register_blueprint(profile.bp)
    return app
