"""Reports: the page that offers them, the telecommand history as CSV for a time range
(for the page at /reports/telecommands.csv, for API clients at
/api/reports/telecommands.csv: same query, same rows), and the printable daily summary.

Any signed-in role may read reports. A range is ``since`` (default: a day before ``until``)
to ``until`` (default: now), RFC 3339 times; it must hold at most REPORT_MAX_ROWS commands
(422 otherwise: narrow it), and the CSV is streamed in pages (reports.py).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import Blueprint, Response, current_app, redirect, render_template, request, url_for

from mission_control import alerts as mc_alerts
from mission_control.timeutil import utcnow
from mission_control.web import ApiError, invalid, parse_query

from . import reports
from .forms import target_names
from .schemas import ReportRange
from .telemetry_csv import csv_download
from .telemetry_pages import source_choices

bp = Blueprint("reports", __name__)
api_bp = Blueprint("reports_api", __name__, url_prefix="/api/reports")

DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def database():
    return current_app.extensions["database"]


def _range() -> tuple[datetime, datetime]:
    """The query's range; ApiError 422 when malformed, empty or holding too many commands."""
    query = parse_query(ReportRange)
    until = query.until or utcnow()
    try:
        since = query.since or until - timedelta(days=1)
    except OverflowError:  # a day before the first representable time
        since = datetime.min.replace(tzinfo=UTC)
    if since >= until:
        raise invalid([{"field": "since", "message": "must be before until"}])
    limit = current_app.extensions["settings"].report_max_rows
    with database().transaction() as session:
        found = reports.count(session, since, until)
    if found > limit:
        raise ApiError(422, "too_many_rows", f"the range holds {found} commands, more than "
                       f"{limit} (REPORT_MAX_ROWS): narrow it", rows=found, limit=limit)
    return since, until


def _csv(since: datetime, until: datetime) -> Response:
    name = f"telecommands-{since:%Y%m%dT%H%M%SZ}-{until:%Y%m%dT%H%M%SZ}.csv"
    return Response(reports.csv_lines(database(), since, until), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@api_bp.get("/telecommands.csv")
def telecommands_csv():
    """The telecommand history of a time range as CSV (viewer)."""
    return _csv(*_range())


@bp.get("/reports")
def page():
    """The reports on offer: the history of a range as CSV, a source's telemetry as CSV, and
    the daily summary."""
    return _page({}, {}, 200)


def _page(form: dict[str, str], errors: dict[str, str], status: int,
          telemetry_errors: dict[str, str] | None = None, date_value: str | None = None):
    until = utcnow().replace(microsecond=0)
    defaults = {"since": _stamp(until - timedelta(days=1)), "until": _stamp(until)}
    with database().transaction() as session:
        sources = source_choices(session)
    return render_template("reports.html", form={**defaults, **({} if telemetry_errors else form)},
                           errors=errors,
                           sources=sources, telemetry_errors=telemetry_errors or {},
                           telemetry_form={**defaults, "source": "", "parameter": "",
                                           **(form if telemetry_errors else {})},
                           date_value=date_value), status


@bp.get("/reports/telecommands.csv")
def page_csv():
    """The CSV for the page's form; a refusal is shown on the page, beside the form."""
    try:
        return _csv(*_range())
    except ApiError as error:
        form = {key: request.args.get(key, "")[:100] for key in ("since", "until")}
        return _page(form, _field_errors(error, form), error.status)


@bp.get("/reports/telemetry.csv")
def page_telemetry_csv():
    """A source's telemetry as CSV for the page's form (the rows of GET /api/telemetry.csv);
    a refusal is shown on the page, beside the form. The form's empty parameter means all:
    the same address without it."""
    if request.args.get("parameter") == "":
        return redirect(url_for("reports.page_telemetry_csv",
                                **{k: v for k, v in request.args.items() if k != "parameter"}))
    try:
        return csv_download()
    except ApiError as error:
        form = {key: request.args.get(key, "")[:100]
                for key in ("source", "parameter", "since", "until")}
        return _page(form, {}, error.status, telemetry_errors=_field_errors(error, form))


def _field_errors(error: ApiError, form: dict[str, str]) -> dict[str, str]:
    """Each refused field's message by field; the rest (the window as a whole, too many
    points) under ``form``."""
    fields = error.extra.get("fields") or [{"field": "form", "message": error.message}]
    return {(name if (name := str(f["field"])) in form else "form"): f["message"]
            for f in fields}


@bp.get("/reports/daily")
def daily():
    """The printable summary of one UTC day (?date=YYYY-MM-DD, default today)."""
    today = utcnow().date()
    raw = request.args.get("date")
    day, problem = today, None
    if raw is not None:
        day, problem = _day(raw, today)
    if problem:
        return _page({}, {"date": problem}, 422, date_value=raw[:20])
    return render_template("daily.html", summary=_summary(day))


def _day(raw: str, today: date) -> tuple[date, str | None]:
    if not DATE.fullmatch(raw):
        return today, "must be a date written YYYY-MM-DD"
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        return today, "is not a date of the calendar"
    if day > today:
        return today, "is in the future: nothing has happened yet"
    return day, None


def _summary(day: date) -> dict[str, Any]:
    start, end = reports.day_bounds(day)
    until = min(end, utcnow())
    with database().transaction() as session:
        outcomes = reports.commands_by_outcome(session, start, end)
        uptimes = reports.uptimes(session, start, until)
        alerts = mc_alerts.alerts_raised(session, start, end)  # worst first
        names = target_names(session)
        for alert in alerts:
            alert["source_name"] = names.get(alert["source"], alert["source"])
    return {"day": day, "start": start, "end": end, "until": until, "outcomes": outcomes,
            "previous": day - timedelta(days=1) if day > date.min else None,
            "next": day + timedelta(days=1) if day < utcnow().date() else None,
            "total": sum(n for _, n in outcomes), "uptimes": uptimes, "alerts": alerts,
            "generated": utcnow()}


def _stamp(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")
