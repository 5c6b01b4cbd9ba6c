"""The operators' web page: server-rendered HTML plus the htmx fragments it polls and posts to.

Routes stay as thin as the API's: form fields become a ``NewTelecommand``, the telecommand
domain decides, and its outcome (or the reason it refused) is rendered as HTML. Fragments
that are polled every second answer 204 when nothing changed since the version the page
holds, so rows are only replaced when a command actually moved (a click is not lost to a
needless re-render).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, redirect, render_template, request, url_for
from markupsafe import Markup
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from mission_control.catalog import CatalogError, CommandSpec, commands_for
from mission_control.status import FINAL, Status
from mission_control.models import Target, Telecommand
from mission_control.timeutil import utcnow
from mission_control.validation import field_errors
from mission_control.web import request_body, text_problem

from . import telecommands
from .schemas import NewTelecommand

bp = Blueprint("pages", __name__)

QUEUE_LIMIT = 50
OPERATOR_COOKIE = "mc_operator"
KIND_ORDER = {"spacecraft": 0, "robot": 1, "module": 2}
KIND_LABELS = {"spacecraft": "Spacecraft", "robot": "Robots", "module": "Robot modules"}
INPUT_KINDS = {"boolean": "boolean", "number": "number", "integer": "integer"}


def database():
    return current_app.extensions["database"]


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


# --- what the form offers: targets, commands, argument fields ------------------------------

@dataclass(frozen=True)
class TargetChoice:
    """One option of the target select; a module is addressed as (its robot, module_id)."""

    id: str
    label: str
    kind: str
    target: str
    module_id: str | None = None


def target_choices(session: Session) -> list[TargetChoice]:
    rows = session.scalars(select(Target)).all()
    names = {t.id: t.name for t in rows}
    choices = [
        TargetChoice(t.id, f"{names.get(t.parent_id, t.parent_id)} › {t.name}", "module",
                     t.parent_id, t.id)
        if t.kind == "module" and t.parent_id else TargetChoice(t.id, t.name, t.kind, t.id)
        for t in rows
    ]
    return sorted(choices, key=lambda c: (KIND_ORDER.get(c.kind, 9), c.label.lower(), c.id))


def target_names(session: Session) -> dict[str, str]:
    return {target_id: name for target_id, name in session.execute(select(Target.id, Target.name))}


@dataclass(frozen=True)
class ArgField:
    """One argument input, derived from the command's JSON schema."""

    name: str
    label: str
    kind: str  # boolean, number, integer, choice or text
    required: bool
    description: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[Any, ...] = ()
    default: Any = None

    @property
    def key(self) -> str:
        return f"arg.{self.name}"


def arg_fields(spec: CommandSpec) -> list[ArgField]:
    schema = spec.args.model_json_schema()
    required = set(schema.get("required", ()))
    fields = []
    for name, prop in schema.get("properties", {}).items():
        kind = "choice" if "enum" in prop else INPUT_KINDS.get(prop.get("type"), "text")
        fields.append(ArgField(
            name=name, label=prop.get("title") or name, kind=kind, required=name in required,
            description=prop.get("description"),
            minimum=prop.get("minimum", prop.get("exclusiveMinimum")),
            maximum=prop.get("maximum", prop.get("exclusiveMaximum")),
            choices=tuple(prop.get("enum", ())), default=prop.get("default")))
    return fields


def args_from_form(fields: list[ArgField], form: MultiDict) -> dict[str, Any]:
    """Form strings to the JSON types the schema wants; the strict model judges the rest.

    An unticked checkbox sends nothing, so a boolean is always present (False). An empty
    number is left out so the model reports it as required (or applies its default); text
    that is no number is passed on as text so the model's own message explains the problem.
    """
    args: dict[str, Any] = {}
    for field in fields:
        if field.kind == "boolean":
            args[field.name] = form.get(field.key) in ("on", "true", "1")
            continue
        raw = form.get(field.key, "").strip()
        if raw == "":
            continue
        if field.kind == "integer":
            args[field.name] = _integer(raw)
        elif field.kind == "number":
            args[field.name] = _number(raw)
        else:
            args[field.name] = raw
    return args


def _number(raw: str) -> float | str:
    try:
        value = float(raw)
    except ValueError:
        return raw
    return value if math.isfinite(value) else raw


def _integer(raw: str) -> int | float | str:
    try:
        return int(raw)
    except ValueError:
        value = _number(raw)
        return int(value) if isinstance(value, float) and value.is_integer() else value


def form_context(choices: list[TargetChoice], *, target_id: str | None = None,
                 command_name: str | None = None, values: dict[str, Any] | None = None,
                 errors: dict[str, str] | None = None, error: str | None = None,
                 issued: Telecommand | None = None) -> dict[str, Any]:
    """Everything the send form renders: the chosen target and command default to the first."""
    choice = next((c for c in choices if c.id == target_id), choices[0] if choices else None)
    commands = commands_for(choice.kind) if choice else {}
    spec = commands.get(command_name or "") or next(iter(commands.values()), None)
    groups: dict[str, list[TargetChoice]] = {}
    for c in choices:
        groups.setdefault(KIND_LABELS.get(c.kind, c.kind.title()), []).append(c)
    return {"target_groups": groups, "choice": choice, "commands": list(commands.values()),
            "spec": spec, "fields": arg_fields(spec) if spec else [], "values": values or {},
            "errors": errors or {}, "error": error, "issued": issued}


# --- the page and its form ----------------------------------------------------------------

def _status_filter(raw: str | None) -> Status | None:
    return Status(raw) if raw in Status.__members__ else None


@bp.get("/")
def index():
    """The operators' page: send form, live command queue."""
    status = _status_filter(request.args.get("status"))
    with database().transaction() as session:
        form = form_context(target_choices(session),
                            values={"operator": request.cookies.get(OPERATOR_COOKIE, "")})
        queue = _queue_body(session, status)
    return render_template("index.html", form=form, queue=queue, status=status,
                           statuses=list(Status))


@bp.get("/ui/command-fields")
def command_fields():
    """Fragment: the command select and argument fields for the chosen target."""
    with database().transaction() as session:
        form = form_context(target_choices(session), target_id=request.args.get("target"))
    return render_template("partials/command_fields.html", form=form)


@bp.get("/ui/args")
def args_fragment():
    """Fragment: the argument fields (and hazard confirmation) of one command."""
    with database().transaction() as session:
        form = form_context(target_choices(session), target_id=request.args.get("target"),
                            command_name=request.args.get("command_name"))
    return render_template("partials/args.html", form=form)


@bp.post("/ui/telecommands")
def submit_command():
    """Issue a telecommand from the form; on a refusal nothing is created and the form says why."""
    form = request.form
    target_id, command_name = form.get("target", ""), form.get("command_name", "")
    operator = form.get("operator", "").strip()
    with database().transaction() as session:
        choices = target_choices(session)
    try:
        command, names = _issue(choices, target_id, command_name, form, operator)
    except _Refused as refused:
        values = {**form.to_dict(), "operator": operator}
        context = form_context(choices, target_id=target_id, command_name=command_name,
                               values=values, errors=refused.errors, error=refused.message)
        if is_htmx():
            return render_template("partials/send_form.html", form=context), 422
        return _render_index(context), 422
    if not is_htmx():
        response = redirect(url_for("pages.index"), 303)
    else:
        # The confirmation is deliberately not kept: each hazardous command is confirmed anew.
        values = {k: v for k, v in form.to_dict().items() if k != "confirm"}
        context = form_context(choices, target_id=target_id, command_name=command_name,
                               values=values, issued=command)
        html = render_template("partials/send_form.html", form=context)
        if form.get("status", "") in ("", Status.READY.value):
            # The new row shows at once, READY, in the same response; the queue-refresh the
            # header triggers then brings the whole table up to date.
            html += render_template("partials/new_row.html", c=command, names=names)
        response = Response(html, 201)
        response.headers["HX-Trigger"] = "queue-refresh"
    response.set_cookie(OPERATOR_COOKIE, operator, max_age=365 * 24 * 3600, httponly=True,
                        samesite="Strict")
    return response


def operator_name(raw: str | None) -> str | None:
    """The operator's name from a form field or cookie, or None when it is not a usable one.

    It is stored in the history and sent back in a cookie, so it must be text both the
    database and an HTTP header can carry: checked before anything is written, never after.
    """
    name = (raw or "").strip()
    return name if 1 <= len(name) <= 100 and text_problem(name) is None else None


class _Refused(Exception):
    """The form was refused: a message for the form and one per field (by input name)."""

    def __init__(self, errors: dict[str, str], message: str | None = None) -> None:
        super().__init__(message)
        self.errors = errors
        self.message = message or "The command was not sent. Correct the fields marked below."


def _issue(choices: list[TargetChoice], target_id: str, command_name: str, form: MultiDict,
           operator: str) -> tuple[Telecommand, dict[str, str]]:
    """Build the request from the form and issue it; every refusal becomes ``_Refused``."""
    errors = {}
    if operator_name(operator) is None:
        errors["operator"] = "Enter your name (1 to 100 printable characters)."
    choice = next((c for c in choices if c.id == target_id), None)
    if choice is None:
        errors["target"] = f"Unknown target {target_id!r}."
    if errors:
        raise _Refused(errors)
    spec = commands_for(choice.kind).get(command_name)
    try:
        body = NewTelecommand(
            command_name=command_name, target=choice.target, module_id=choice.module_id,
            args=args_from_form(arg_fields(spec), form) if spec else {},
            confirm=form.get("confirm") in ("yes", "on", "true"))
        with database().transaction() as session:
            command, _ = telecommands.issue(session, body, operator=operator)
            return command, target_names(session)
    except CatalogError as refusal:
        raise _catalog_refusal(refusal, command_name) from None
    except telecommands.UnknownTarget as refusal:
        raise _Refused({"target": str(refusal)}) from None
    except ValidationError as refusal:
        raise _Refused({f["field"]: f["message"]
                        for f in field_errors(refusal, "form")}) from None


def _catalog_refusal(refusal: CatalogError, command_name: str) -> _Refused:
    if refusal.details.get("hazardous"):
        return _Refused({"confirm": "Confirmation required."},
                        f"{command_name} is hazardous: tick the confirmation to send it.")
    fields = {f"arg.{f['field']}": f["message"] for f in refusal.details.get("fields", ())}
    if fields:
        return _Refused(fields, f"Invalid arguments for {command_name}.")
    return _Refused({"command_name": refusal.message}, refusal.message)


def _render_index(form: dict[str, Any]) -> str:
    with database().transaction() as session:
        queue = _queue_body(session, None)
    return render_template("index.html", form=form, queue=queue, status=None,
                           statuses=list(Status))


# --- the live queue -----------------------------------------------------------------------

def _version(html: str) -> str:
    return hashlib.sha256(html.encode()).hexdigest()[:16]


def _queue_body(session: Session, status: Status | None) -> dict[str, Any]:
    items, total = telecommands.page(session, status=status, target=None, limit=QUEUE_LIMIT,
                                     offset=0)
    rows = render_template("partials/queue_rows.html", commands=items, total=total,
                           names=target_names(session), status=status)
    return {"rows": Markup(rows), "version": _version(rows), "status": status}


@bp.get("/ui/queue")
def queue_fragment():
    """Fragment: the queue's table body, polled every second; 204 when nothing changed."""
    status = _status_filter(request.args.get("status"))
    with database().transaction() as session:
        queue = _queue_body(session, status)
    if request.args.get("since") == queue["version"]:
        return Response(status=204)
    return render_template("partials/queue_body.html", queue=queue)


@bp.post("/ui/telecommands/<command_id>/cancel")
def cancel_command(command_id: str):
    """Cancel a READY command; a conflict (no longer READY) is shown, not hidden."""
    given = request.form.get("operator", "").strip()
    operator = operator_name(given)
    if given and operator is None:
        return render_template("message.html", title="Not cancelled",
                               message="Enter your name (1 to 100 printable characters).",
                               back=url_for("pages.index")), 422
    # A cookie is the browser's to send as it likes: one that holds no usable name is ignored.
    operator = operator or operator_name(request.cookies.get(OPERATOR_COOKIE)) or "operator"
    refusal = None
    with database().transaction() as session:
        command_uuid = telecommands.parse_id(command_id)
        try:
            command = telecommands.cancel(session, command_uuid, operator=operator)
        except telecommands.NotCancellable as error:
            refusal = f"Cannot cancel {str(command_uuid)[:8]}: {error}."
            command = telecommands.get(session, command_uuid)
        status_code = 409 if refusal else 200
        if not is_htmx():
            if refusal:
                return render_template("message.html", title="Not cancelled", message=refusal,
                                       back=url_for("pages.detail", command_id=command.id)), 409
            return redirect(url_for("pages.index"), 303)
        notice = {"kind": "error" if refusal else "ok",
                  "text": refusal or f"Cancelled {command.command_name} {str(command.id)[:8]}."}
        if request.form.get("view") == "detail":
            html = render_template("partials/detail_panel.html", panel=_detail(session, command),
                                   notice=notice)
        else:
            html = render_template("partials/cancel_result.html", c=command,
                                   names=target_names(session), notice=notice)
    response = Response(html, status_code)
    response.headers["HX-Trigger"] = "queue-refresh"
    return response


# --- one command in detail ----------------------------------------------------------------

def _detail(session: Session, command: Telecommand) -> dict[str, Any]:
    """The detail panel's content, its version (for 204 polling) and whether polling stops."""
    history = []
    previous: datetime | None = None
    for entry in command.history:
        history.append({"entry": entry,
                        "after_s": (entry.at - previous).total_seconds() if previous else None})
        previous = entry.at
    body = render_template("partials/detail_body.html", c=command, history=history,
                           names=target_names(session))
    return {"c": command, "body": Markup(body), "version": _version(body),
            "final": Status(command.status) in FINAL}


@bp.get("/telecommands/<command_id>")
def detail(command_id: str):
    """One command: its arguments, current status and full history, live until final."""
    with database().transaction() as session:
        command = telecommands.get(session, telecommands.parse_id(command_id))
        return render_template("detail.html", panel=_detail(session, command))


@bp.get("/ui/telecommands/<command_id>")
def detail_fragment(command_id: str):
    """Fragment: the detail panel, polled until the command is final; 204 when unchanged."""
    with database().transaction() as session:
        command = telecommands.get(session, telecommands.parse_id(command_id))
        panel = _detail(session, command)
    if request.args.get("since") == panel["version"]:
        return Response(status=204)
    return render_template("partials/detail_panel.html", panel=panel)


# --- cross-site refusal, errors, template helpers ------------------------------------------

@bp.before_request
def _refuse_cross_site_posts():
    """Refuse form posts another site's page made the browser send (a CSRF stop-gap).

    There is no login yet, so no session to ride on; when login arrives, real CSRF tokens
    must come with it. Browsers name the origin of a POST; requests without these headers
    (scripts, tests) are not browsers acting for another site.
    """
    if request.method != "POST":
        return None
    request_body()  # 413 for an oversized body sent without a length, not a truncated form
    site = request.headers.get("Sec-Fetch-Site")
    origin = request.headers.get("Origin")
    if (site is not None and site not in ("same-origin", "none")) or \
            (origin is not None and urlsplit(origin).netloc != request.host):
        return render_template("message.html", title="Refused",
                               message="This form can only be sent from the Mission Control page.",
                               back=url_for("pages.index")), 403
    return None


@bp.errorhandler(telecommands.CommandNotFound)
def _not_found(error: telecommands.CommandNotFound):
    return render_template("message.html", title="Not found",
                           message=f"There is no telecommand with id {error}.",
                           back=url_for("pages.index")), 404


@bp.app_template_filter("clock")
def clock(value: datetime | None) -> str:
    """HH:MM:SS (UTC) today, with the date on other days."""
    if value is None:
        return ""
    return value.strftime("%H:%M:%S" if value.date() == utcnow().date() else "%d %b %H:%M:%S")


@bp.app_template_filter("stamp")
def stamp(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + " UTC" if value else ""


@bp.app_template_filter("argvalue")
def argvalue(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "null" if value is None else str(value)


@bp.app_template_global("target_label")
def target_label(names: dict[str, str], target_id: str, module_id: str | None = None) -> str:
    label = names.get(target_id, target_id)
    return f"{label} › {names.get(module_id, module_id)}" if module_id else label
