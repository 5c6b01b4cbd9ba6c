"""robot-server's application factory."""

from __future__ import annotations

from flask import Flask

from mission_control import metrics, mqtt
from mission_control.db import Database
from mission_control.settings import Settings, get_settings
from mission_control.uplink_routes import uplink_blueprint
from mission_control.web import service_app

from . import api, commands_api, delivery, green, presence, profile
from .fast_path import HeartbeatFastPath
from .openapi import openapi_document
from .heartbeats import HeartbeatWriter, ModuleOwners
from .mqtt_ingest import Ingest
from .mqtt_subscriber import Subscriber
from .queue import CommandQueue
from .sweeper import Sweeper
from .wakeup import Listener, Waiters


def create_app(settings: Settings | None = None, database: Database | None = None) -> Flask:
    """Build robot-server; tests pass their own settings and database.

    The offline sweeper, the heartbeat writer and, on PostgreSQL, the LISTEN loop that wakes
    long polls run under mc-serve (gunicorn) from each worker's start to its exit
    (``background_tasks``); tests drive ``app.extensions["sweeper"].run_once()`` themselves,
    and without a running writer each heartbeat is written in its request. With MQTT_URL set,
    the MQTT subscriber is one more background task (tests feed messages to
    ``app.extensions["mqtt_ingest"]``).
    """
    green.cooperate()  # under gunicorn's gevent worker: database waits and hashes yield
    settings = settings or get_settings()
    app = service_app(__name__, "robot-server", settings, database,
                      lambda: openapi_document(settings.uplink_batch_max), "robot-server")
    settings = app.extensions["settings"]
    database = app.extensions["database"]
    sweeper = Sweeper(database, settings.heartbeat_timeout,
                      result_timeout_s=settings.robot_result_timeout_s)
    writer = HeartbeatWriter(database, settings.heartbeat_flush_s)
    app.extensions["sweeper"] = sweeper
    app.extensions["heartbeat_writer"] = writer
    app.extensions["module_owners"] = ModuleOwners(database)
    waiters = Waiters()
    app.extensions["waiters"] = waiters
    app.extensions["robot_commands"] = delivery.RobotCommands(database)
    app.extensions["uplink"] = CommandQueue(database, settings.command_ttl_s,
                                            on_stored=waiters.wake)
    app.extensions["background_tasks"] = [writer, sweeper, waiters]
    if settings.mqtt_url is not None:
        ingest = Ingest(database, writer, app.extensions["module_owners"])
        app.extensions["mqtt_ingest"] = ingest
        app.extensions["background_tasks"].append(Subscriber(
            mqtt.parse_url(settings.mqtt_url), settings.mqtt_share_group,
            ingest))
    if database.is_postgresql:
        listener = Listener(database, waiters)
        app.extensions["listener"] = listener
        app.extensions["background_tasks"].append(listener)
    metrics.add_collector(app, api.DatabaseGauge(
        "mc_robots_online", "Robots online now (database)",
        lambda: presence.online_count(database)))
    metrics.add_collector(app, api.DatabaseGauge(
        "mc_robot_commands_queued", "Commands waiting for robots that are offline (database)",
        lambda: delivery.queued_for_offline(database)))
    app.register_blueprint(api.bp)
    app.register_blueprint(commands_api.bp)
    app.register_blueprint(uplink_blueprint())
    app.register_blueprint(profile.bp)
    app.wsgi_app = HeartbeatFastPath(app)  # last: it checks the app's hooks
    return app
