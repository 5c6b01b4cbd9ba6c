"""The uplink protocol's routes (docs/uplink.md), served by the spacecraft and robot-server
alike: parse, ask the target's ``Receiver`` to check, store and report, answer.

Each target registers ``uplink_blueprint()`` and puts its receiver in
``app.extensions["uplink"]``; what differs between targets (which catalog, which table, what
a target id must name) lives in the receiver, not here. Every route needs the uplink key
(uplink_key.py).
"""

from __future__ import annotations

from typing import Any, Protocol

from flask import Blueprint, current_app, request
from werkzeug.routing import PathConverter

from .settings import Settings
from .uplink_checks import Refused
from .uplink_key import require_key
from .uplink_schemas import (
    Acknowledgement, BatchAcknowledgement, CommandReport, Incoming, QueryReport, Refusal,
    UplinkBatch, UplinkQuery, UplinkRequest, is_valid_id,
)
from .web import ApiError, invalid, json_body, json_object, validate_body


class Receiver(Protocol):
    """What a target does with the uplink's commands; nothing of it knows about HTTP."""

    def check(self, commands: list[UplinkRequest]) -> list[Incoming | Refused]:
        """Each command checked (catalog, target): what to store, or why not, in order."""

    def receive(self, commands: list[Incoming]) -> dict[str, Acknowledgement]:
        """Store new commands and count one more receipt of known ones (ids unique)."""

    def reports(self, command_ids: list[str]) -> dict[str, CommandReport]:
        """The known commands among ``command_ids``, by id. Executes nothing."""


class CommandIdConverter(PathConverter):
    """A command id in a path: anything but ``query``, which names POST /commands/query (so
    that path does not also answer GET, and says so in its Allow header)."""

    regex = r"(?!query\Z)[^/].*?"


def receiver() -> Receiver:
    return current_app.extensions["uplink"]


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
    checked = receiver().check([body])[0]
    if isinstance(checked, Refused):
        raise ApiError(422, checked.error, checked.message, **checked.details)
    acknowledgement = receiver().receive([checked])[body.id]
    return acknowledgement.model_dump(mode="json"), 202


def _receive_batch(data: dict[str, Any]):
    commands = data.get("commands")
    if isinstance(commands, list):
        _check_count(len(commands), "commands")
    batch = validate_body(UplinkBatch, data)
    _check_unique([command.id for command in batch.commands])
    checked = receiver().check(batch.commands)
    accepted = [item for item in checked if isinstance(item, Incoming)]
    stored = receiver().receive(accepted) if accepted else {}
    items = [stored[item.id] if isinstance(item, Incoming) else
             Refusal(id=command.id, acknowledged=False, error=item.error, message=item.message)
             for command, item in zip(batch.commands, checked)]
    return BatchAcknowledgement(acknowledgements=items).model_dump(mode="json"), 202


def query_commands():
    """The state of many commands in one call; read only."""
    data = json_object(_json_under_uplink_limit())
    ids = data.get("ids")
    if isinstance(ids, list):
        _check_count(len(ids), "ids")
    query = validate_body(UplinkQuery, data)
    wanted = list(dict.fromkeys(query.ids))  # request order, each id once
    reports = receiver().reports(wanted)
    return QueryReport(commands=[reports[i] for i in wanted if i in reports],
                       unknown=[i for i in wanted if i not in reports]).model_dump(mode="json")


def command_report(command_id: str):
    """A command's state on the target; read only."""
    report = None
    if is_valid_id(command_id):
        report = receiver().reports([command_id]).get(command_id)
    if report is None:
        raise ApiError(404, "not_found", f"no command with id {command_id!r} was received")
    return report.model_dump(mode="json")


def uplink_blueprint() -> Blueprint:
    """POST /commands (both forms), POST /commands/query and GET /commands/{id}, behind the
    uplink key, answered by ``app.extensions["uplink"]``."""
    bp = Blueprint("uplink", __name__)
    bp.before_request(require_key)
    bp.record_once(lambda state: state.app.url_map.converters.setdefault(
        "command_id", CommandIdConverter))
    bp.add_url_rule("/commands", view_func=receive_commands, methods=["POST"])
    bp.add_url_rule("/commands/query", view_func=query_commands, methods=["POST"])
    bp.add_url_rule("/commands/<command_id:command_id>", view_func=command_report,
                    methods=["GET"])
    return bp
