"""GET /api/telemetry.csv: a source's raw telemetry points over a window, streamed as CSV.

The window is at most 31 days and the file at most CSV_MAX_ROWS points: a wider answer is a
422 asking for a narrower window, decided before the first byte is sent (a stream cannot
change its status half-way). The Telemetry page offers the same file under the page's session
(telemetry_pages.py).
"""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, Response, current_app, stream_with_context

from mission_control import telemetry_export
from mission_control.openapi import errors, query_parameters
from mission_control.telemetry_schemas import CSV_MAX_ROWS, CsvQuery
from mission_control.web import ApiError, parse_query

bp = Blueprint("telemetry_csv", __name__)
CSV_MIMETYPE = "text/csv"
_UNSAFE_IN_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")


def csv_download() -> Response:
    """The CSV of the request's query (CsvQuery); 422 for a bad query or too many points."""
    query = parse_query(CsvQuery)
    database = current_app.extensions["database"]
    with database.begin() as connection:
        count = telemetry_export.count_at_most(connection, query.source, query.parameter,
                                               query.since, query.until, CSV_MAX_ROWS)
    if count > CSV_MAX_ROWS:
        raise ApiError(422, "too_many_points",
                       f"the window holds more than {CSV_MAX_ROWS:,} points; ask for a "
                       "narrower window (since, until) or one parameter", limit=CSV_MAX_ROWS)

    def chunks():
        with database.begin() as connection:
            yield from telemetry_export.csv_chunks(connection, query.source, query.parameter,
                                                   query.since, query.until)

    name = "-".join(part for part in ("telemetry", query.source, query.parameter,
                                      query.since.strftime("%Y%m%dT%H%M%SZ")) if part)
    filename = _UNSAFE_IN_FILENAME.sub("_", name)[:120] + ".csv"
    return Response(stream_with_context(chunks()), mimetype=CSV_MIMETYPE,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.get("/api/telemetry.csv")
def telemetry_csv():
    """A source's raw points (one parameter or all) over [since, until), as CSV."""
    return csv_download()


def openapi_paths() -> dict[str, Any]:
    """The CSV's entry in ground's OpenAPI document."""
    return {"/api/telemetry.csv": {"get": {
        "summary": "A source's raw telemetry points over [since, until) as CSV "
                   "(time,source,parameter,value,unit), in time order",
        "description": f"At most 31 days and {CSV_MAX_ROWS:,} points. Text cells starting "
                       "with = + - @, a tab or a carriage return are prefixed with ' "
                       "(CSV injection).",
        "operationId": "getTelemetryCsv",
        "parameters": query_parameters(CsvQuery),
        "responses": {
            "200": {"description": "the points; a header line only when there are none",
                    "content": {CSV_MIMETYPE: {"schema": {"type": "string"}}}},
            **errors({422: "bad query parameter, since not before until, a window above 31 "
                           "days, or `too_many_points`"}),
        },
    }}}
