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

from . import (
    alerts_api, alerts_pages, api, approval_api, approval_pages, batches_api, batches_pages,
    control_api, filters, fleet_pages, map_pages, nav, pages, passes_api, passes_pages,
    reports_pages, signin, stacks_api, stacks_pages, telecommands, telemetry_api, telemetry_csv,
    telemetry_pages, users_pages,
)
from .openapi import document


def create_app(settings: Settings | None = None, database: Database | None = None) -> Flask:
    """Build ground; tests pass their own settings and database."""
    app = service_app(__name__, "ground", settings, database, document, "Mission Control ground")
    app.register_blueprint(auth_api.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(alerts_api.bp)
    app.register_blueprint(passes_api.bp)
    app.register_blueprint(batches_api.bp)
    app.register_blueprint(approval_api.bp)  # approval and command authority (issue 12)
    app.register_blueprint(control_api.bp)
    app.register_blueprint(approval_pages.bp)
    app.register_blueprint(telemetry_api.bp)
    app.register_blueprint(telemetry_csv.bp)
    app.register_blueprint(filters.bp)
    app.register_blueprint(signin.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(fleet_pages.bp)
    app.register_blueprint(telemetry_pages.bp)
    app.register_blueprint(alerts_pages.bp)
    app.register_blueprint(passes_pages.bp)
    app.register_blueprint(batches_pages.bp)
    app.register_blueprint(map_pages.bp)
    app.register_blueprint(reports_pages.bp)
    app.register_blueprint(reports_pages.api_bp)
    app.register_blueprint(users_pages.bp)
    app.register_blueprint(stacks_api.bp)
    app.register_blueprint(stacks_pages.bp)
    app.register_blueprint(nav.bp)
    protect(app, page_blueprints=nav.PAGE_BLUEPRINTS, page_refusal=pages.refusal)
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
