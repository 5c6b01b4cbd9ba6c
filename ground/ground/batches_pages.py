"""The Batches page: every fleet-wide command with its roll-up, live, and (for operators) a
form that sends one command to a selection of robots.

The table body is polled like the fleet's (fragments.version: 204 while nothing changed). The
form goes through the API's own model (NewBatch) and domain function (batches.create), so a
refusal reads the same as the API's 422.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, current_app, redirect, render_template, request, url_for
from markupsafe import Markup
from pydantic import ValidationError
from sqlalchemy import select

from mission_control import authority
from mission_control.authweb import current_identity, requires
from mission_control.catalog import CATALOG
from mission_control.logs import current_request_id
from mission_control.registry_models import ASSET_STATUSES, Level, Project, Workspace
from mission_control.status import Status
from mission_control.validation import field_errors, summary

from . import batches
from .batch_schemas import NewBatch
from .forms import refuse_cross_site_posts
from .fragments import is_htmx, version
from .pages import OPERATE

bp = Blueprint("batches_pages", __name__)
bp.before_request(refuse_cross_site_posts)

PAGE_LIMIT = 50
OFFENDING_SHOWN = 10
COMMANDS = sorted(set(CATALOG["robot"]) | set(CATALOG["module"]))


def database():
    return current_app.extensions["database"]


def _body() -> dict[str, Any]:
    with database().transaction() as session:
        items, total = batches.page(session, limit=PAGE_LIMIT, offset=0)
        counts = batches.counts(session, [b.id for b in items])
    rows = render_template("partials/batch_rows.html", total=total, statuses=list(Status),
                           items=[(b, counts[b.id], batches.is_done(b, counts[b.id]))
                                  for b in items])
    return {"rows": Markup(rows), "version": version(rows), "total": total}


def _places() -> list[tuple[str, str]]:
    """The selector's place choices: (form value, label), workspaces > projects > levels."""
    with database().transaction() as session:
        rows = session.execute(
            select(Workspace.id, Workspace.name, Project.id, Project.name, Level.id, Level.name)
            .outerjoin(Project, Project.workspace_id == Workspace.id)
            .outerjoin(Level, Level.project_id == Project.id)
            .order_by(Workspace.name, Project.name, Level.name)).all()
    places: dict[str, str] = {}
    for w_id, w_name, p_id, p_name, l_id, l_name in rows:
        places[f"workspace_id:{w_id}"] = w_name
        if p_id is not None:
            places[f"project_id:{p_id}"] = f"{w_name} / {p_name}"
        if l_id is not None:
            places[f"level_id:{l_id}"] = f"{w_name} / {p_name} / {l_name}"
    return list(places.items())


def _form(values: dict[str, str] | None = None, **outcome: Any) -> dict[str, Any]:
    return {"values": values or {}, "places": _places(), "commands": COMMANDS,
            "statuses": ASSET_STATUSES, **outcome}


@bp.get("/batches")
def page():
    """Fleet-wide commands: each batch's roll-up, live; operators get the send form."""
    return render_template("batches.html", body=_body(), form=_form(), statuses=list(Status))


@bp.get("/ui/batches")
def batches_fragment():
    """Fragment: the batches table's body, polled every 2 s; 204 when nothing changed."""
    body = _body()
    if request.args.get("since") == body["version"]:
        return Response(status=204)
    return render_template("partials/batch_body.html", body=body)


def _request(form) -> NewBatch:
    """The API's body from the form's fields (ValueError with the reason if it cannot be)."""
    selector: dict[str, Any] = {}
    place = form.get("place", "")
    if place:
        key, _, value = place.partition(":")
        selector[key] = value
    for key in ("status", "connection", "module"):
        if form.get(key, "").strip():
            selector[key] = form[key].strip()
    raw_args = form.get("args", "").strip() or "{}"
    try:
        args = json.loads(raw_args)
    except ValueError:
        raise ValueError("Arguments must be a JSON object, e.g. {\"speed\": 0.5}.") from None
    try:
        return NewBatch(command_name=form.get("command_name", ""), args=args,
                        confirm=form.get("confirm") == "yes", selector=selector)
    except ValidationError as error:
        raise ValueError(summary(field_errors(error, "form"))) from None


@bp.post("/ui/batches")
@requires(OPERATE)
def send():
    """Send the form's command to every robot (or module) the selector matches."""
    values = {k: request.form.get(k, "") for k in
              ("command_name", "args", "place", "status", "connection", "module")}
    settings = current_app.extensions["settings"]
    try:
        body = _request(request.form)
        with database().transaction() as session:
            batch = batches.create(session, body, current_identity().username,
                                   max_targets=settings.batch_max_targets,
                                   approval_policy=settings.approval_required,
                                   request_id=current_request_id())
            sent = {"id": str(batch.id), "count": batch.count,
                    "command_name": batch.command_name}
    except (ValueError, authority.ControlledByOther) as error:
        return _answer(_form(values, error=str(error)), 409
                       if isinstance(error, authority.ControlledByOther) else 422)
    except batches.BatchRefused as error:
        return _answer(_form(values, error=error.message,
                             offending=error.offending[:OFFENDING_SHOWN],
                             more=max(0, len(error.offending) - OFFENDING_SHOWN)), 422)
    return _answer(_form(sent=sent), 201)


@bp.post("/ui/batches/<batch_id>/cancel")
@requires(OPERATE)
def cancel(batch_id: str):
    """Cancel a batch's commands not transmitted yet (batches.cancel), then back to the page."""
    with database().transaction() as session:
        batches.cancel(session, batches.parse_id(batch_id), user=current_identity().username)
    return redirect(url_for("batches_pages.page"), 303)


@bp.errorhandler(batches.BatchNotFound)
def _not_found(error: batches.BatchNotFound):
    return render_template("message.html", title="No such batch",
                           message=f"No fleet-wide command has the id {error}.",
                           back=url_for("batches_pages.page")), 404


def _answer(form: dict[str, Any], status: int):
    if not is_htmx():
        if status == 201:
            return redirect(url_for("batches_pages.page"), 303)
        return render_template("batches.html", body=_body(), form=form,
                               statuses=list(Status)), status
    response = Response(render_template("partials/batch_result.html", form=form), status)
    response.headers["HX-Trigger"] = "batches-refresh"
    return response
