"""The Alerts page: alerts by severity and state, live, with Acknowledge, Resolve and Shelve for
operators; and the open-alert badge any page can include (partials/alert_badge.html).

The page polls its table body like the queue and the fleet do (fragments.version): a poll that
sends the version it holds gets 204 while nothing changed. The buttons post forms (with the
session's CSRF token) that go through the same domain functions as the API (alerts.py), with
the comment checked by the API's own model. Viewers see no buttons, and the guard refuses
their posts (403).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import (
    Blueprint, Response, current_app, redirect, render_template, request, url_for,
)
from markupsafe import Markup
from pydantic import ValidationError

from mission_control import alerts
from mission_control.alert_models import SEVERITIES
from mission_control.authweb import current_identity, requires
from mission_control.timeutil import utcnow

from .alert_schemas import Acknowledgement
from .alerts_api import open_counts, parse_alert_id
from .forms import refuse_cross_site_posts, target_names
from .fragments import is_htmx, version
from .pages import OPERATE

bp = Blueprint("alerts_pages", __name__)
bp.before_request(refuse_cross_site_posts)

PAGE_LIMIT = 100
STATE_TABS = {"open": "Open", "acknowledged": "Acknowledged", "shelved": "Shelved",
              "resolved": "Resolved", "all": "All"}
SEVERITY_LABELS = {"critical": "Critical", "warning": "Warning", "info": "Info"}
SHELVE_CHOICES = {"900": "15 min", "3600": "1 h", "28800": "8 h"}  # seconds: label


def database():
    return current_app.extensions["database"]


@dataclass(frozen=True)
class AlertFilter:
    """What the page lists: one state tab (``all``: every state) and one severity or all."""

    state: str = "open"
    severity: str | None = None

    def args(self) -> dict[str, str]:
        return {"state": self.state, **({"severity": self.severity} if self.severity else {})}


def alert_filter(args: Mapping[str, str]) -> AlertFilter:
    """The filter of a query string or form; a value that cannot be one is ignored."""
    state, severity = args.get("state"), args.get("severity")
    return AlertFilter(state=state if state in STATE_TABS else "open",
                       severity=severity if severity in SEVERITIES else None)


def _render(template: str, **context: Any) -> str:
    """A template with one or more alert rows: what every row needs besides its alert."""
    return render_template(template, now=utcnow(), severity_labels=SEVERITY_LABELS,
                           shelve_choices=SHELVE_CHOICES, is_shelved=alerts.is_shelved,
                           **context)


def _body(shown: AlertFilter) -> dict[str, Any]:
    with database().transaction() as session:
        items, total = alerts.page(session, state=None if shown.state == "all" else shown.state,
                                   severity=shown.severity, limit=PAGE_LIMIT, offset=0,
                                   worst_first=True)
        rows = _render("partials/alert_rows.html", alerts=items, total=total,
                       names=target_names(session), shown=shown)
    return {"rows": Markup(rows), "version": version(rows), "total": total, "shown": shown}


@bp.get("/alerts")
def page():
    """Alerts, critical first: ?state= (open, acknowledged, shelved, resolved, all) and
    ?severity= filter them."""
    shown = alert_filter(request.args)
    return render_template("alerts.html", body=_body(shown), tabs=STATE_TABS,
                           severities=SEVERITY_LABELS)


@bp.get("/ui/alerts")
def alerts_fragment():
    """Fragment: the alerts table's body, polled; 204 when nothing changed."""
    body = _body(alert_filter(request.args))
    if request.args.get("since") == body["version"]:
        return Response(status=204)
    return render_template("partials/alert_body.html", body=body)


# --- the badge ---------------------------------------------------------------------------------

@bp.app_template_global("alert_badge_counts")
def badge_counts() -> dict[str, Any]:
    """The badge's numbers: open alerts (unacknowledged and not shelved, those whose condition
    has cleared included: they still wait for an acknowledgement) by severity, their total,
    the highest severity among them, and a version for 204 polling."""
    counts = open_counts(database())
    by_severity = {name: counts.get(name, 0) for name in reversed(SEVERITIES)}
    total = sum(by_severity.values())
    worst = next((name for name, count in by_severity.items() if count), None)
    return {"by_severity": by_severity, "total": total, "worst": worst,
            "version": version(repr(sorted(by_severity.items())))}


@bp.get("/ui/alerts/badge")
def badge():
    """Fragment: the open-alert badge (partials/alert_badge.html), polled; 204 unchanged."""
    counts = badge_counts()
    if request.args.get("since") == counts["version"]:
        return Response(status=204)
    return render_template("partials/alert_badge.html", badge=counts)


# --- acknowledge, resolve, shelve ------------------------------------------------------------

class Refused(Exception):
    """A form value the page cannot take (422)."""


@bp.post("/ui/alerts/<alert_id>/acknowledge")
@requires(OPERATE)
def acknowledge(alert_id: str):
    """Acknowledge with the form's optional comment (the API's rules: Acknowledgement)."""
    key, comment = parse_alert_id(alert_id), request.form.get("comment", "").strip()
    try:
        comment = Acknowledgement(comment=comment or None).comment
    except ValidationError as error:
        raise Refused("The comment was refused: " + error.errors()[0]["msg"] + ".") from None
    return _act(key, f"Acknowledged alert {key}", lambda session, by: alerts.acknowledge(
        session, key, by=by, comment=comment))


@bp.post("/ui/alerts/<alert_id>/resolve")
@requires(OPERATE)
def resolve(alert_id: str):
    key = parse_alert_id(alert_id)
    return _act(key, f"Resolved alert {key}", lambda session, by: alerts.resolve(session, key, by=by))


@bp.post("/ui/alerts/<alert_id>/shelve")
@requires(OPERATE)
def shelve(alert_id: str):
    """Shelve for one of the page's durations (SHELVE_CHOICES)."""
    key, duration = parse_alert_id(alert_id), request.form.get("duration", "")
    if duration not in SHELVE_CHOICES:
        raise Refused("Choose how long to shelve the alert: "
                      + ", ".join(SHELVE_CHOICES.values()) + ".")
    return _act(key, f"Shelved alert {key} for {SHELVE_CHOICES[duration]}",
                lambda session, by: alerts.shelve(session, key, duration_s=float(duration),
                                                  by=by))


def _act(key: int, done: str, action) -> Response:
    """Run ``action(session, by)`` (by: the signed-in user) in one transaction and answer:
    htmx gets the alert's row again and a notice saying ``done`` (and the table and badge refresh); a plain form goes back to the page."""
    refusal = None
    with database().transaction() as session:
        try:
            alert = action(session, current_identity().username)
        except alerts.NotShelvable:
            refusal = f"Cannot shelve alert {key}: it is resolved."
            alert = alerts.get(session, key)
        shown = alert_filter(request.form)
        if not is_htmx():
            if refusal:
                return _message("Not shelved", refusal, 409)
            return redirect(url_for("alerts_pages.page", **shown.args()), 303)
        notice = {"kind": "error" if refusal else "ok",
                  "text": refusal or f"{done}; it is {_state(alert)} now."}
        html = _render("partials/alert_action.html", a=alert, names=target_names(session),
                       shown=shown, notice=notice)
    return Response(html, 409 if refusal else 200, headers={"HX-Trigger": "alerts-changed"})


def _state(alert) -> str:
    return "shelved" if alerts.is_shelved(alert, utcnow()) else alert.state


def _message(title: str, text: str, status: int) -> Response | tuple[str, int]:
    if is_htmx():  # the page stays; the reason shows in its notices
        html = render_template("partials/notice.html", notice={"kind": "error", "text": text})
        return Response(html, status, headers={"HX-Reswap": "none"})
    return render_template("message.html", title=title, message=text,
                           back=url_for("alerts_pages.page")), status


@bp.errorhandler(alerts.AlertNotFound)
def _not_found(error: alerts.AlertNotFound):
    return _message("Not found", f"There is no alert with id {error}.", 404)


@bp.errorhandler(Refused)
def _refused(error: Refused):
    return _message("Not done", str(error), 422)
