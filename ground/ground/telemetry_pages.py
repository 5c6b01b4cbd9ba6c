"""The Telemetry page of the operators' console: pick a source, see each parameter's newest
value coloured by its limit state (live), and chart one parameter (telemetry.js, uPlot).

The latest-values table is polled like the fleet's (fleet_pages.py): the poll sends the version
it holds and gets 204 while nothing changed. The chart's script reads the series under the
page's session cookie from /ui/telemetry/series: the answer of GET /api/telemetry plus the
limits that apply, for the chart's limit lines. Any signed-in role may look.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, Response, current_app, render_template, request
from markupsafe import Markup
from sqlalchemy.orm import Session

from mission_control import limits, telemetry, telemetry_export
from mission_control.models import SPACECRAFT_TARGET_ID
from mission_control.telemetry_models import NAME_MAX
from mission_control.telemetry_schemas import LatestQuery, SeriesQuery
from mission_control.validation import text_problem
from mission_control.web import parse_query

from .fragments import version
from .telemetry_csv import csv_download

bp = Blueprint("telemetry_pages", __name__)

RANGES = (("15 min", 900), ("1 h", 3600), ("24 h", 86400))  # the chart's windows, in seconds
PREFERRED_PARAMETER = "temperature"  # charted first when the source has it


def database():
    return current_app.extensions["database"]


def _name_arg(name: str) -> str | None:
    """A source or parameter of the query string, or None when it cannot be one."""
    value = request.args.get(name) or ""
    if value.strip() and len(value) <= NAME_MAX and text_problem(value) is None:
        return value
    return None


def source_choices(session: Session) -> list[dict[str, str]]:
    """The spacecraft, then every other source with telemetry, by its target name (a source
    that is no target shows its id)."""
    ids = [s for s in telemetry_export.sources(session) if s != SPACECRAFT_TARGET_ID]
    names = telemetry_export.names(session, [SPACECRAFT_TARGET_ID, *ids])
    others = sorted(({"id": s, "label": names.get(s, s)} for s in ids),
                    key=lambda c: (c["label"].lower(), c["id"]))
    return [{"id": SPACECRAFT_TARGET_ID,
             "label": names.get(SPACECRAFT_TARGET_ID, "Spacecraft")}, *others]


def latest_body(session: Session, source: str) -> dict[str, Any]:
    """The latest-values table's rows for ``source``, their version and the parameters."""
    parameters = telemetry.latest(session, source)
    for row in parameters:
        row["time"] = datetime.fromisoformat(row["time"])
    rows = render_template("partials/telemetry_rows.html", parameters=parameters, source=source)
    return {"rows": Markup(rows), "version": version(rows), "source": source,
            "parameters": parameters}


def _charted(parameters: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The parameter to chart: the one asked for, else temperature, else the first."""
    by_name = {p["parameter"]: p for p in parameters}
    asked = _name_arg("parameter")
    chosen = by_name.get(asked or "") or by_name.get(PREFERRED_PARAMETER)
    return chosen or (parameters[0] if parameters else None)


@bp.get("/telemetry")
def page():
    """Telemetry: a source's newest values with their limit state, and a live chart."""
    source = _name_arg("source") or SPACECRAFT_TARGET_ID
    with database().transaction() as session:
        choices = source_choices(session)
        latest = latest_body(session, source)
    if source not in {c["id"] for c in choices}:
        choices.append({"id": source, "label": source})
    label = next(c["label"] for c in choices if c["id"] == source)
    return render_template("telemetry.html", choices=choices, source=source,
                           source_label=label, latest=latest,
                           charted=_charted(latest["parameters"]), ranges=RANGES)


class _LatestPoll(LatestQuery):
    since: str | None = None  # the version the page holds


@bp.get("/ui/telemetry/latest")
def latest_fragment():
    """Fragment: the latest-values table's body, polled; 204 when nothing changed."""
    source = parse_query(_LatestPoll).source
    with database().transaction() as session:
        body = latest_body(session, source)
    if request.args.get("since") == body["version"]:
        return Response(status=204)
    return render_template("partials/telemetry_body.html", latest=body)


@bp.get("/ui/telemetry/series")
def series():
    """The chart's data: GET /api/telemetry's answer plus the limits that apply (or null)."""
    query = parse_query(SeriesQuery)
    with database().transaction() as session:
        answer = telemetry.series(session, query.source, query.parameter, query.since,
                                  query.until, query.max_points)
        bounds = limits.effective(session, [(query.source, query.parameter)])
    found = bounds.get((query.source, query.parameter))
    return {**answer, "limits": found.to_json() if found is not None else None}


@bp.get("/ui/telemetry.csv")
def csv_file():
    """The CSV of GET /api/telemetry.csv, for the page's download link."""
    return csv_download()
