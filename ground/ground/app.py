"""ground's application factory: the only place that reads settings and wires blueprints."""

from __future__ import annotations

from flask import Flask

from mission_control import auth_api, metrics
from mission_control.alert_models import SEVERITIES
from mission_control.authweb import protect
from mission_control.db import Database
from mission_control.settings import Settings
from mission_control.status import Status
from mission_control.web import service_app

from . import alerts_api, alerts_pages, api, filters, fleet_pages, pages, signin, telecommands
from .openapi import document


def create_app(settings: Settings | None = None, database: Database | None = None) -> Flask:
    """Build ground; tests pass their own settings and database."""
    app = service_app(__name__, "ground", settings, database, document, "Mission Control ground")
    app.register_blueprint(auth_api.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(alerts_api.bp)
    app.register_blueprint(filters.bp)
    app.register_blueprint(signin.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(fleet_pages.bp)
    app.register_blueprint(alerts_pages.bp)
    protect(app, page_blueprints=("pages", "fleet", "alerts_pages"), page_refusal=pages.refusal)
    database = app.extensions["database"]
    metrics.add_collector(app, metrics.ScrapedGauge(
        "mc_telecommands", "Telecommands by status, read from the database at each scrape",
        "status", lambda: telecommands.counts_by_status(database),
        always=[status.value for status in Status]))
    metrics.add_collector(app, metrics.ScrapedGauge(
        "mc_alerts_open", "Open alerts (unacknowledged, not shelved) by severity, read from "
        "the database at each scrape", "severity", lambda: alerts_api.open_counts(database),
        always=SEVERITIES))
    return app
