"""The send form of the operators' page: what it offers (targets, commands, argument fields),
how its fields become a ``NewTelecommand``, and why a post is refused.

Nothing here is a route: the page modules (pages.py) call these and render the outcome.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, render_template, request, url_for
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from mission_control import authority
from mission_control.catalog import CatalogError, CommandSpec, commands_for
from mission_control.db import Database
from mission_control.logs import current_request_id
from mission_control.models import Target, Telecommand
from mission_control.validation import field_errors
from mission_control.web import request_body

from . import telecommands
from .schemas import NewTelecommand

KIND_ORDER = {"spacecraft": 0, "robot": 1, "module": 2}
KIND_LABELS = {"spacecraft": "Spacecraft", "robot": "Robots", "module": "Robot modules"}
INPUT_KINDS = {"boolean": "boolean", "number": "number", "integer": "integer"}


# --- what the form offers: targets, commands, argument fields ------------------------------

@dataclass(frozen=True)
class TargetChoice:
    """One option of the target select; a module is addressed as (its robot, module_id)."""

    id: str
    label: str
    kind: str
    target: str
    module_id: str | None = None


# What a datetime-local input sends: no seconds, maybe, and no offset (the field says UTC).
_LOCAL = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?")


def not_before_from_form(form) -> str | None:
    """The form's "not before" (UTC) as the API takes it; None when left empty. Anything that
    is no date-time is passed on for NewTelecommand's own message."""
    raw = form.get("not_before", "").strip()
    if not raw:
        return None
    if _LOCAL.fullmatch(raw):
        return raw + (":00" if raw.count(":") == 1 else "") + "Z"
    return raw


def target_choices(session: Session) -> list[TargetChoice]:
    rows = session.scalars(select(Target).where(Target.removed_at.is_(None))).all()
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


# --- from the posted form to a command -----------------------------------------------------

class Refused(Exception):
    """The form was refused: a message for the form and one per field (by input name)."""

    def __init__(self, errors: dict[str, str], message: str | None = None) -> None:
        super().__init__(message)
        self.errors = errors
        self.message = message or "The command was not sent. Correct the fields marked below."


def issue_from_form(database: Database, choices: list[TargetChoice], target_id: str,
                    command_name: str, form: MultiDict,
                    operator: str) -> tuple[Telecommand, dict[str, str]]:
    """Build the request from the form and issue it; every refusal becomes ``Refused``."""
    choice = next((c for c in choices if c.id == target_id), None)
    if choice is None:
        raise Refused({"target": f"Unknown target {target_id!r}."})
    spec = commands_for(choice.kind).get(command_name)
    try:
        body = NewTelecommand(
            command_name=command_name, target=choice.target, module_id=choice.module_id,
            args=args_from_form(arg_fields(spec), form) if spec else {},
            confirm=form.get("confirm") in ("yes", "on", "true"),
            not_before=not_before_from_form(form))
        with database.transaction() as session:
            command, _ = telecommands.issue(
                session, body, operator=operator, request_id=current_request_id(),
                approval_policy=current_app.extensions["settings"].approval_required)
            return command, target_names(session)
    except authority.ControlledByOther as refusal:
        raise Refused({"target": str(refusal)}, f"Not sent: {refusal}.") from None
    except CatalogError as refusal:
        raise _catalog_refusal(refusal, command_name) from None
    except telecommands.UnknownTarget as refusal:
        raise Refused({"target": str(refusal)}) from None
    except ValidationError as refusal:
        raise Refused({f["field"]: f["message"]
                        for f in field_errors(refusal, "form")}) from None


def _catalog_refusal(refusal: CatalogError, command_name: str) -> Refused:
    if refusal.details.get("hazardous"):
        return Refused({"confirm": "Confirmation required."},
                        f"{command_name} is hazardous: tick the confirmation to send it.")
    fields = {f"arg.{f['field']}": f["message"] for f in refusal.details.get("fields", ())}
    if fields:
        return Refused(fields, f"Invalid arguments for {command_name}.")
    return Refused({"command_name": refusal.message}, refusal.message)


def refuse_cross_site_posts():
    """Refuse form posts another site's page made the browser send; every page blueprint
    and the sign-in routes run it before their requests.

    The session's CSRF token is the real defence of the page's forms (authweb checks it);
    this also covers /login, where there is no session yet to derive a token from (another
    site must not sign a browser in under its own account). Browsers name the origin of a
    POST; requests without these headers (scripts, tests) are not browsers acting for
    another site.
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
