"""The spacecraft's application factory."""

from __future__ import annotations

from flask import Flask

from mission_control.db import Database
from mission_control.settings import Settings, get_settings
from mission_control.uplink_routes import uplink_blueprint
from mission_control.web import service_app

from . import state
from .executor import Executor
from .onboard import Onboard
from .openapi import openapi_document
from .telemetry import TelemetryPusher


def create_app(settings: Settings | None = None, database: Database | None = None, *,
               executor_on_demand: bool = True) -> Flask:
    """Build the spacecraft service; tests pass their own settings and database.

    The executor runs in a thread: under mc-serve (gunicorn) from the worker's start to its
    exit (``background_tasks``); elsewhere from the first receipt until it is idle, unless
    ``executor_on_demand`` is False (tests that drive ``executor.run_once()`` themselves).
    The telemetry pusher runs under mc-serve only (tests call its ``run_once()``).
    """
    settings = settings or get_settings()
    app = service_app(__name__, "spacecraft", settings, database,
                      lambda: openapi_document(settings.uplink_batch_max), "Spacecraft")
    settings = app.extensions["settings"]
    database = app.extensions["database"]
    executor = Executor(database, execution_failure_rate=settings.execution_failure_rate,
                        poll_s=settings.executor_poll_s, batch_size=settings.uplink_batch_max,
                        on_demand=executor_on_demand)
    app.extensions["executor"] = executor
    onboard = Onboard(database, max_stage_delay_s=settings.max_stage_delay_s,
                      on_received=executor.notify)
    pusher = TelemetryPusher(settings, onboard.state)  # pushes its state to ground
    app.extensions["telemetry_pusher"] = pusher
    app.extensions["background_tasks"] = [executor, pusher]
    app.extensions["onboard"] = onboard
    app.extensions["uplink"] = onboard  # the uplink routes' receiver
    app.register_blueprint(uplink_blueprint())
    app.register_blueprint(state.bp)
    return app
