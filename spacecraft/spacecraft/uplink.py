"""The uplink protocol's routes: parse, call the on-board software, answer."""

from __future__ import annotations

from flask import Blueprint, current_app

from mission_control.catalog import CatalogError, validate_command
from mission_control.web import ApiError, parse_body

from .onboard import Onboard
from .schemas import UplinkRequest, is_valid_id

bp = Blueprint("uplink", __name__)


def onboard() -> Onboard:
    return current_app.extensions["onboard"]


@bp.post("/commands")
def receive_command():
    """Receive a command; idempotent on its id."""
    body = parse_body(UplinkRequest)
    try:
        # Hazard confirmation is the ground's business; what reaches the uplink is confirmed.
        args = validate_command("spacecraft", body.command_name, body.args, confirm=True)
    except CatalogError as error:
        raise ApiError(422, "invalid_command", error.message, **error.details) from None
    acknowledgement = onboard().receive(body.id, body.command_name, args, body.module_id)
    return acknowledgement.model_dump(mode="json"), 202


@bp.get("/commands/<path:command_id>")
def command_report(command_id: str):
    """A command's state on board, after running it if it is due."""
    report = None
    if is_valid_id(command_id):
        report = onboard().report(command_id)
    if report is None:
        raise ApiError(404, "not_found", f"no command with id {command_id!r} was received")
    return report.model_dump(mode="json")


@bp.get("/state")
def spacecraft_state():
    """The simulated spacecraft's state, after running every due command."""
    return onboard().state().model_dump(mode="json")
