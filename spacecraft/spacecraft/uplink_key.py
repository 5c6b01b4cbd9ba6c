"""The uplink's key: only the holder of UPLINK_KEY (the command-sender) may command the
spacecraft or read its commands, so ground, with its users and roles, is the only way in.

Every route of the uplink blueprint needs ``Authorization: Bearer <UPLINK_KEY>`` except the
ones marked ``@open_route`` (GET /state); /health, /openapi.json and /docs are other blueprints
and stay open. The key is compared in constant time (keys.same_secret) and never echoed.
"""

from __future__ import annotations

from typing import Callable

from flask import Response, current_app, request

from mission_control import access, keys
from mission_control.authweb import bearer_token, unauthorized

REFUSED = "send Authorization: Bearer <UPLINK_KEY> (the key the command-sender holds)"


def open_route(view: Callable) -> Callable:
    """Mark an uplink route that anyone may call (it reads nothing a key protects)."""
    view.uplink_open = True
    return view


def expected_key() -> str:
    """UPLINK_KEY of this app (env, else var/uplink-key, made on first use), read once."""
    key = current_app.extensions.get("uplink_key")
    if key is None:
        key = current_app.extensions["uplink_key"] = keys.uplink_key(
            current_app.extensions["settings"])
    return key


def require_key() -> Response | None:
    """before_request of the uplink blueprint: 401 unless the bearer token is the key."""
    view = current_app.view_functions.get(request.endpoint or "")
    if view is None or getattr(view, "uplink_open", False):
        return None
    if keys.same_secret(bearer_token(), expected_key()):
        access.name_caller("uplink-key")
        return None
    return unauthorized(REFUSED)
