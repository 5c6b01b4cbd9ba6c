"""Two-person approval's routes: approve or reject a command AWAITING_APPROVAL.

The rule (who may approve, what each outcome does) is mission_control.approval's; the cancel
route (api.py) also cancels a command awaiting approval.
"""

from __future__ import annotations

from flask import Blueprint, current_app

from mission_control import approval
from mission_control.authweb import current_identity, requires
from mission_control.status import Status
from mission_control.web import error_response, parse_body

from . import telecommands
from .approval_schemas import Rejection

bp = Blueprint("approval_api", __name__, url_prefix="/api")


def database():
    return current_app.extensions["database"]


@bp.errorhandler(approval.UnknownCommand)
def _not_found(error):
    return error_response(404, "not_found", f"no telecommand with id {error}")


@bp.errorhandler(approval.SelfApproval)
def _self_approval(error: approval.SelfApproval):
    return error_response(403, "own_command", str(error))


@bp.errorhandler(approval.NotAwaitingApproval)
def _not_awaiting(error: approval.NotAwaitingApproval):
    return error_response(409, "not_awaiting_approval", str(error), status=error.status.value)


def decide(command_id: str, *, approve: bool, reason: str | None = None):
    """Approve or reject one command as the signed-in user; returns the command's JSON after
    it. Raises approval's errors (mapped above; the page maps them itself)."""
    command_uuid = _parse(command_id)
    username = current_identity().username
    with database().transaction() as session:
        if approve:
            outcome = approval.approve(
                session, command_uuid, approver=username,
                timeout_s=current_app.extensions["settings"].approval_timeout_s)
        else:
            approval.reject(session, command_uuid, rejecter=username, reason=reason or "")
            outcome = Status.CANCELLED
        session.expire_all()
        data = telecommands.to_json(telecommands.get(session, command_uuid), with_history=True)
    if approve and outcome is not Status.READY:  # expired meanwhile: that is committed now
        raise approval.NotAwaitingApproval(outcome)
    return data


def _parse(command_id: str):
    try:
        return telecommands.parse_id(command_id)
    except telecommands.CommandNotFound:
        raise approval.UnknownCommand(command_id[:40]) from None


@bp.post("/telecommands/<command_id>/approve")
@requires("operator")
def approve(command_id: str):
    """Approve a command AWAITING_APPROVAL (not one's own): it becomes READY."""
    return decide(command_id, approve=True)


@bp.post("/telecommands/<command_id>/reject")
@requires("operator")
def reject(command_id: str):
    """Reject a command AWAITING_APPROVAL: it ends CANCELLED with the reason."""
    body = parse_body(Rejection)
    return decide(command_id, approve=False, reason=body.reason)
