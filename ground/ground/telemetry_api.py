"""The telemetry API: ingest a batch of points, read a series, read each parameter's newest
value. Parse, call mission_control.telemetry, answer."""

from __future__ import annotations

from flask import Blueprint, current_app, request

from mission_control import telemetry
from mission_control.authweb import requires
from mission_control.telemetry_schemas import BadBatch, LatestQuery, SeriesQuery, check_batch
from mission_control.web import error_response, json_body, parse_query

bp = Blueprint("telemetry", __name__, url_prefix="/api/telemetry")


def database():
    return current_app.extensions["database"]


@bp.errorhandler(BadBatch)
def _bad_batch(error: BadBatch):
    first = error.errors[0]
    where = f"point {first['index']}" if first["index"] is not None else "the body"
    return error_response(422, "invalid_points",
                          f"{error.count} problem(s); nothing was stored. First: {where}, "
                          f"{first['field']}: {first['message']}",
                          errors=error.errors, error_count=error.count)


@bp.post("")
@requires("operator")
def ingest():
    """Store a batch of up to 10,000 points, all or nothing."""
    request.max_content_length = current_app.extensions["settings"].telemetry_max_body_bytes
    points = check_batch(json_body())
    return {"accepted": telemetry.ingest(database(), points)}, 201


@bp.get("")
def series():
    """One parameter of a source over a window: raw points, or min/max/avg buckets."""
    query = parse_query(SeriesQuery)
    with database().transaction() as session:
        return telemetry.series(session, query.source, query.parameter, query.since,
                                query.until, query.max_points)


@bp.get("/latest")
def latest():
    """Each parameter of a source with its newest value and limit state."""
    query = parse_query(LatestQuery)
    with database().transaction() as session:
        return {"source": query.source, "parameters": telemetry.latest(session, query.source)}
