"""Command authority's routes: take, renew, read and release exclusive control of a target.

The rule is mission_control.authority's; ground's issue() checks it for every new command
(409 ``controlled`` naming the holder, mapped in api.py).
"""

from __future__ import annotations

from flask import Blueprint, current_app

from mission_control import authority
from mission_control.auth import role_allows
from mission_control.authweb import current_identity, requires
from mission_control.models import Target
from mission_control.validation import text_problem
from mission_control.web import error_response, parse_body, request_body

from .approval_schemas import ControlRequest

bp = Blueprint("control_api", __name__, url_prefix="/api")


class UnknownTarget(LookupError):
    pass


def database():
    return current_app.extensions["database"]


@bp.errorhandler(UnknownTarget)
def _unknown_target(error):
    return error_response(404, "not_found", f"no target with id {error}")


@bp.errorhandler(authority.NotControlled)
def _not_controlled(error):
    return error_response(404, "not_controlled", f"nobody controls {error}")


@bp.errorhandler(authority.NotHolder)
def _not_holder(error: authority.NotHolder):
    return error_response(403, "not_holder", str(error), holder=error.control.holder)


def _target(session, target_id: str) -> Target:
    usable = len(target_id) <= 64 and text_problem(target_id) is None  # NUL: PostgreSQL refuses
    target = session.get(Target, target_id) if usable else None
    if target is None or target.removed_at is not None:
        raise UnknownTarget(target_id[:64] if usable else "(not a target id)")
    return target


def take(target_id: str, lease_s: float | None) -> dict:
    """Take or renew control as the signed-in user (the page calls it too)."""
    settings = current_app.extensions["settings"]
    lease = settings.control_lease_s if lease_s is None else lease_s
    with database().transaction() as session:
        _target(session, target_id)
        return authority.take(session, target_id, current_identity().username, lease).to_json()


def release(target_id: str) -> None:
    """Release one's control, or break another's as an admin (the page calls it too)."""
    identity = current_identity()
    with database().transaction() as session:
        _target(session, target_id)
        authority.release(session, target_id, identity.username,
                          admin=role_allows(identity.role, "admin"))


@bp.post("/targets/<target_id>/control")
@requires("operator")
def take_control(target_id: str):
    """Take exclusive control of a target (its holder renews it the same way)."""
    body = parse_body(ControlRequest) if request_body() else ControlRequest()
    return take(target_id, body.lease_s)


@bp.delete("/targets/<target_id>/control")
@requires("operator")
def release_control(target_id: str):
    """Release control (its holder), or break another user's (an admin)."""
    release(target_id)
    return "", 204


@bp.get("/targets/<target_id>/control")
def get_control(target_id: str):
    """Who controls a target now (or the robot it belongs to); null when free."""
    with database().transaction() as session:
        target = _target(session, target_id)
        control = authority.current(session, target.id)
        if control is None and target.parent_id is not None:
            control = authority.current(session, target.parent_id)
        return {"target": target.id, "control": control.to_json() if control else None}


@bp.get("/controls")
def list_controls():
    """Every running control, by target."""
    with database().transaction() as session:
        return {"items": [c.to_json() for c in authority.holds(session)]}
