"""GET /state: the simulated spacecraft's state, open to anyone (the uplink's routes are
mission_control.uplink_routes, behind the uplink key)."""

from __future__ import annotations

from flask import Blueprint, current_app

bp = Blueprint("state", __name__)


@bp.get("/state")
def spacecraft_state():
    """The simulated spacecraft's state; read only."""
    return current_app.extensions["onboard"].state().model_dump(mode="json")
