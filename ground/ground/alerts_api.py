"""The limits and alerts API: parse, call the domain (limits.py, alerts.py), answer."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app
from pydantic import TypeAdapter, ValidationError

from mission_control import alerts, limits
from mission_control.authweb import current_identity, requires
from mission_control.db import Database
from mission_control.timeutil import utcnow
from mission_control.web import (
    INT64_MAX, error_response, invalid, json_body, parse_body, parse_query, request_body,
    validation_error,
)

from .alert_schemas import MAX_LIMITS, Acknowledgement, AlertQuery, LimitIn, Shelving

bp = Blueprint("alerts_api", __name__, url_prefix="/api")
_LIMIT_LIST = TypeAdapter(list[LimitIn])


def database() -> Database:
    return current_app.extensions["database"]


@bp.errorhandler(alerts.AlertNotFound)
def _not_found(error: alerts.AlertNotFound):
    return error_response(404, "not_found", f"no alert with id {error}")


@bp.errorhandler(alerts.NotShelvable)
def _not_shelvable(error: alerts.NotShelvable):
    return error_response(409, "not_shelvable", str(error), state="resolved")


def parse_alert_id(text: str) -> int:
    """The path's alert id; AlertNotFound for anything that cannot be one."""
    if not text.isascii() or not text.isdigit() or len(text) > 19 or int(text) > INT64_MAX:
        raise alerts.AlertNotFound(text[:40])
    return int(text)


def _limits_body() -> list[dict[str, Any]]:
    """PUT /api/limits' body: one limit or a list of 1 to MAX_LIMITS, with consistent bounds."""
    data = json_body()
    single = isinstance(data, dict)
    if not single and not (isinstance(data, list) and 1 <= len(data) <= MAX_LIMITS):
        raise invalid([{"field": "body", "message": "must be a limit object or a list of 1 "
                        f"to {MAX_LIMITS} of them"}])
    try:
        items = _LIMIT_LIST.validate_python([data] if single else data)
    except ValidationError as error:
        failure = validation_error(error, "body")
        if single:
            for field in failure.extra["fields"]:
                field["field"] = field["field"].partition(".")[2] or "body"
        raise failure from None
    fields, seen = [], set()
    for index, item in enumerate(items):
        where = "" if single else f"{index}."
        fields += [{"field": where + name, "message": message}
                   for name, message in limits.problems(item.model_dump())]
        key = (item.source, item.parameter)
        if key in seen:
            fields.append({"field": where + "parameter",
                           "message": "names a source and parameter already in this body"})
        seen.add(key)
    if fields:
        raise invalid(fields)
    return [item.model_dump() for item in items]


def open_counts(database: Database) -> dict[str, int]:
    """Open alerts by severity, for mc_alerts_open."""
    with database.autocommit() as connection:
        return alerts.open_counts(connection)


def _optional(model):
    """An optional JSON body: none at all means every field's default."""
    return parse_body(model) if request_body() else model()


@bp.get("/limits")
def list_limits():
    """The stored limits and the built-in defaults."""
    with database().transaction() as session:
        return {"items": [b.to_json() for b in limits.stored(session)],
                "defaults": limits.defaults()}


@bp.put("/limits")
@requires("admin")
def put_limits():
    """Write one limit or a list of them (each replaces its source and parameter's)."""
    items = _limits_body()
    keys = {(i["source"], i["parameter"]) for i in items}
    with database().transaction() as session:
        limits.save(session, items, by=current_identity().username, now=utcnow())
        session.flush()
        return {"items": [b.to_json() for b in limits.stored(session)
                          if (b.source, b.parameter) in keys]}


@bp.get("/alerts")
def list_alerts():
    """Alerts newest first; ?state= (open hides shelved ones), ?severity=, pagination."""
    query = parse_query(AlertQuery)
    with database().transaction() as session:
        items, total = alerts.page(session, state=query.state, severity=query.severity,
                                   limit=query.limit, offset=query.offset)
        return {"items": [alerts.to_json(a) for a in items], "total": total,
                "limit": query.limit, "offset": query.offset}


@bp.get("/alerts/<alert_id>")
def get_alert(alert_id: str):
    """One alert."""
    with database().transaction() as session:
        return alerts.to_json(alerts.get(session, parse_alert_id(alert_id)))


@bp.post("/alerts/<alert_id>/acknowledge")
@requires("operator")
def acknowledge(alert_id: str):
    """Acknowledge an alert (twice is harmless: the first acknowledgement stands)."""
    alert_id_, body = parse_alert_id(alert_id), _optional(Acknowledgement)
    with database().transaction() as session:
        return alerts.to_json(alerts.acknowledge(session, alert_id_, comment=body.comment,
                                                 by=current_identity().username))


@bp.post("/alerts/<alert_id>/resolve")
@requires("operator")
def resolve(alert_id: str):
    """Resolve an alert (twice is harmless: the first resolution stands)."""
    alert_id_ = parse_alert_id(alert_id)
    with database().transaction() as session:
        return alerts.to_json(alerts.resolve(session, alert_id_,
                                             by=current_identity().username))


@bp.post("/alerts/<alert_id>/shelve")
@requires("operator")
def shelve(alert_id: str):
    """Hide an active alert from the open list for duration_s."""
    alert_id_, body = parse_alert_id(alert_id), parse_body(Shelving)
    with database().transaction() as session:
        return alerts.to_json(alerts.shelve(session, alert_id_, duration_s=body.duration_s,
                                            by=current_identity().username))
