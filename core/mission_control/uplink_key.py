"""The uplink's key: only the holder of UPLINK_KEY (the command-sender) may command a target
(the spacecraft, robot-server) or read its commands, so ground, with its users and roles, is
the only way in.

Every route of the uplink blueprint (uplink_routes.py) needs ``Authorization: Bearer
<UPLINK_KEY>``; the other blueprints (/health, /openapi.json, /docs, the spacecraft's /state)
stay open. The key is compared in constant time (keys.same_secret) and
never echoed.
"""

from __future__ import annotations

from flask import Response, current_app, request

from . import access, keys
from .authweb import bearer_token, unauthorized

REFUSED = "send Authorization: Bearer <UPLINK_KEY> (the key the command-sender holds)"


def expected_key() -> str:
    """UPLINK_KEY of this app (env, else var/uplink-key, made on first use), read once."""
    key = current_app.extensions.get("uplink_key")
    if key is None:
        key = current_app.extensions["uplink_key"] = keys.uplink_key(
            current_app.extensions["settings"])
    return key


def require_key() -> Response | None:
    """before_request of an uplink blueprint: 401 unless the bearer token is the key."""
    if current_app.view_functions.get(request.endpoint or "") is None:
        return None  # no such route: the 404 or 405 says so
    if keys.same_secret(bearer_token(), expected_key()):
        access.name_caller("uplink-key")
        return None
    return unauthorized(REFUSED)
