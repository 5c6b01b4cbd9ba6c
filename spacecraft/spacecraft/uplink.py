"""The uplink protocol's routes: parse, call the on-board software, answer."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, current_app, request
from werkzeug.routing import PathConverter

from mission_control.catalog import CatalogError, commands_for, validate_command
from mission_control.settings import Settings
from mission_control.web import ApiError, invalid, json_body, json_object, validate_body

from .onboard import Incoming, Onboard
from .schemas import (
    BatchAcknowledgement, QueryReport, Refusal, UplinkBatch, UplinkQuery, UplinkRequest,
    is_valid_id,
)
from .uplink_key import open_route, require_key

log = logging.getLogger("spacecraft.uplink")

bp = Blueprint("uplink", __name__)
bp.before_request(require_key)


class CommandIdConverter(PathConverter):
    """A command id in a path: anything but ``query``, which names POST /commands/query (so
    that path does not also answer GET, and says so in its Allow header)."""

    regex = r"(?!query\Z)[^/].*?"


bp.record_once(lambda state: state.app.url_map.converters.setdefault("command_id",
                                                                     CommandIdConverter))


def onboard() -> Onboard:
    return current_app.extensions["onboard"]


def settings() -> Settings:
    return current_app.extensions["settings"]


def _json_under_uplink_limit() -> Any:
    """The JSON body, read under the batch routes' larger limit (UPLINK_MAX_BODY_BYTES)."""
    request.max_content_length = settings().uplink_max_body_bytes
    return json_body()


def _check_count(count: int, field: str) -> None:
    limit = settings().uplink_batch_max
    if count > limit:
        raise invalid([{"field": field, "message": f"at most {limit} items per call"}])


def _checked(body: UplinkRequest) -> Incoming:
    """The command with its arguments normalised by the catalog; CatalogError if refused.

    Hazard confirmation is ground's business (a second look by a user with the right role):
    a hazardous command arrives with ``confirmed_by``, the user who confirmed it, or is
    refused. The spacecraft keeps no column for it; the log line is its record on board.
    """
    spec = commands_for("spacecraft").get(body.command_name)
    if spec is not None and spec.hazardous and body.confirmed_by is None:
        message = (f"{body.command_name} is hazardous: the uplink must name the user who "
                   "confirmed it in confirmed_by")
        raise CatalogError(message, hazardous=True,
                           fields=[{"field": "confirmed_by", "message": "required for a "
                                    "hazardous command"}])
    args = validate_command("spacecraft", body.command_name, body.args, confirm=True)
    if body.confirmed_by is not None:
        log.info("command %s %s confirmed by %s", body.id, body.command_name, body.confirmed_by)
    return Incoming(body.id, body.command_name, args, body.module_id)


@bp.post("/commands")
def receive_commands():
    """Receive a command, or a batch of them; idempotent per id."""
    data = _json_under_uplink_limit()
    if isinstance(data, dict) and "commands" in data:
        return _receive_batch(data)
    # Only batches may use the larger limit; the body had to be read to tell which it is.
    limit = settings().max_body_bytes
    if len(request.get_data()) > limit:
        raise ApiError(413, "payload_too_large",
                       f"request body is larger than {limit} bytes (a batch may be larger)")
    body = validate_body(UplinkRequest, json_object(data))
    try:
        incoming = _checked(body)
    except CatalogError as error:
        raise ApiError(422, "invalid_command", error.message, **error.details) from None
    acknowledgement = onboard().receive([incoming])[body.id]
    return acknowledgement.model_dump(mode="json"), 202


def _receive_batch(data: dict[str, Any]):
    commands = data.get("commands")
    if isinstance(commands, list):
        _check_count(len(commands), "commands")
    batch = validate_body(UplinkBatch, data)
    _check_unique([command.id for command in batch.commands])
    answers: list[Any] = []
    accepted: list[Incoming] = []
    for command in batch.commands:
        try:
            accepted.append(_checked(command))
            answers.append(command.id)
        except CatalogError as error:
            answers.append(Refusal(id=command.id, acknowledged=False, error="invalid_command",
                                   message=error.message))
    stored = onboard().receive(accepted) if accepted else {}
    items = [stored[answer] if isinstance(answer, str) else answer for answer in answers]
    return BatchAcknowledgement(acknowledgements=items).model_dump(mode="json"), 202


def _check_unique(ids: list[str]) -> None:
    first: dict[str, int] = {}
    fields = []
    for index, command_id in enumerate(ids):
        if command_id in first:
            fields.append({"field": f"commands.{index}.id",
                           "message": f"duplicate id {command_id!r} "
                                      f"(also commands.{first[command_id]}.id)"})
        else:
            first[command_id] = index
    if fields:
        raise invalid(fields)


@bp.post("/commands/query")
def query_commands():
    """The state of many commands in one call; read only."""
    data = json_object(_json_under_uplink_limit())
    ids = data.get("ids")
    if isinstance(ids, list):
        _check_count(len(ids), "ids")
    query = validate_body(UplinkQuery, data)
    wanted = list(dict.fromkeys(query.ids))  # request order, each id once
    reports = onboard().reports(wanted)
    return QueryReport(commands=[reports[i] for i in wanted if i in reports],
                       unknown=[i for i in wanted if i not in reports]).model_dump(mode="json")


@bp.get("/commands/<command_id:command_id>")
def command_report(command_id: str):
    """A command's state on board; read only."""
    report = None
    if is_valid_id(command_id):
        report = onboard().report(command_id)
    if report is None:
        raise ApiError(404, "not_found", f"no command with id {command_id!r} was received")
    return report.model_dump(mode="json")


@bp.get("/state")
@open_route
def spacecraft_state():
    """The simulated spacecraft's state; read only."""
    return onboard().state().model_dump(mode="json")
