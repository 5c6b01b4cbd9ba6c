"""The heartbeat's fast path: a well-formed heartbeat of a robot whose session this process
checked lately is answered before Flask is involved.

A fleet of N robots sends N heartbeats a second, and most of robot-server's CPU per heartbeat
went to Flask's machinery around a small view (the request context, URL matching, the app's
before and after hooks, the response object) rather than to the heartbeat itself. This WSGI
middleware, in front of the Flask app, takes ``POST /robots/<id>/heartbeat`` and answers it
itself only when everything goes right, doing what the full path does: the Host check
(hosts.py), the request id and access line (access.py), the body limit and JSON checks
(web.decode_json), the session token from this process's cache (sessions.recent, the same
expiry checks), validation (schemas.Heartbeat), the module check and the writer
(api.record_heartbeat), the request-duration histogram (metrics.py) and the security header
(headers.py). Anything else (another route, a header or body out of the ordinary, a token not
in the cache, any refusal or error) goes to the Flask app unchanged, which answers it the
usual way: so every error answer still comes from one place. The body, when read here, is
handed on as it was read.

``HOOKS`` names the app-wide hooks this mirrors; the app factory refuses to start when the
app has others (a hook added later must be mirrored here, or the fast path dropped).
"""

from __future__ import annotations

import io
import logging
import re
import time
import uuid
from typing import Any, Callable, Iterable

from flask import Flask
from pydantic import ValidationError

from mission_control import access, hosts, metrics
from mission_control.logs import bind_request_id, request_id_from
from mission_control.web import ApiError, decode_json

from . import sessions
from .api import record_heartbeat
from .schemas import Heartbeat

PATH = re.compile(r"/robots/([^/]+)/heartbeat")
RULE = "/robots/<robot_id>/heartbeat"
# The app-wide hooks (module.function) the fast path does the work of; see the docstring.
HOOKS = {
    "before": ("mission_control.metrics._start", "mission_control.access._start",
               "mission_control.hosts.install.<locals>.check_host"),
    "after": ("mission_control.access._finish",
              "mission_control.metrics.install.<locals>.observe",
              "mission_control.headers.add_security_headers"),
}

StartResponse = Callable[..., Any]
log = logging.getLogger(__name__)


class _Unreadable(io.RawIOBase):
    """The request's body stream after reading it failed here: Flask meets the same error."""

    def __init__(self, error: BaseException) -> None:
        self.error = error

    def read(self, *_args: Any) -> bytes:
        raise self.error

    readinto = readline = read


def hook_names(app: Flask) -> dict[str, tuple[str, ...]]:
    name = lambda f: f"{f.__module__}.{f.__qualname__}"  # noqa: E731
    return {"before": tuple(sorted(name(f) for f in app.before_request_funcs.get(None, []))),
            "after": tuple(sorted(name(f) for f in app.after_request_funcs.get(None, [])))}


class HeartbeatFastPath:
    def __init__(self, app: Flask, service: str = "robot-server") -> None:
        found = hook_names(app)
        expected = {kind: tuple(sorted(names)) for kind, names in HOOKS.items()}
        if found != expected:
            raise RuntimeError(f"the heartbeat fast path mirrors the hooks {expected}, the "
                               f"app has {found}: mirror the new ones in fast_path.py")
        self.full = app.wsgi_app
        self.extensions = app.extensions
        settings = app.extensions["settings"]
        self.ttl_s = settings.robot_session_ttl_s
        self.allowed = hosts.allowed_hosts(settings)
        self.limit = app.config["MAX_CONTENT_LENGTH"]
        self.dumps = app.json.dumps
        self.timer = metrics.REQUEST_DURATION.labels(service, "POST", RULE, "200")

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ["REQUEST_METHOD"] == "POST":
            matched = PATH.fullmatch(environ.get("PATH_INFO", ""))
            if matched is not None:
                answered = self._answer(environ, start_response, matched.group(1))
                if answered is not None:
                    return answered
        return self.full(environ, start_response)

    def _answer(self, environ: dict[str, Any], start_response: StartResponse,
                raw_id: str) -> list[bytes] | None:
        """The answer of a heartbeat that goes right; None to leave it to Flask."""
        started = time.perf_counter()
        host = environ.get("HTTP_HOST")
        if host is None:
            host = environ.get("SERVER_NAME", "")
        if self.allowed is not None and hosts.normalize(host) not in self.allowed:
            return None
        kind = environ.get("CONTENT_TYPE", "").partition(";")[0].strip().lower()
        length = environ.get("CONTENT_LENGTH", "")
        if kind != "application/json" or not (length.isascii() and length.isdigit()) or \
                not 0 < int(length) <= self.limit:
            return None
        try:
            robot_id = uuid.UUID(raw_id)
            token = sessions.token_of(environ.get("HTTP_AUTHORIZATION", ""))
        except (ValueError, sessions.NoSession):
            return None
        checked = sessions.recent.get(sessions.token_hash(token))
        if checked is None or checked.robot_id != robot_id:
            return None  # looked up (and renewed) in the database, or refused, by Flask
        stream = environ["wsgi.input"]
        try:
            data = stream.read(int(length))
        except Exception as error:  # noqa: BLE001 - Flask reads the same and answers it
            environ["wsgi.input"] = _Unreadable(error)
            return None
        environ["wsgi.input"] = io.BytesIO(data)  # for Flask, should it answer after all
        if len(data) != int(length):
            return None
        request_id = request_id_from(environ.get("HTTP_X_REQUEST_ID"))
        bind_request_id(request_id)  # any line logged meanwhile carries it, as in Flask
        try:
            decoded = decode_json(data)
            if not isinstance(decoded, dict):
                return None
            body = Heartbeat.model_validate(decoded)
            answer = record_heartbeat(self.extensions, robot_id, checked.session_id, body)
        except (ApiError, ValidationError):
            return None
        except Exception:  # noqa: BLE001 - the database away, say: Flask answers it (503)
            log.debug("heartbeat left to Flask", exc_info=True)
            return None
        finally:
            bind_request_id(None)
        payload = f"{self.dumps(answer, separators=(',', ':'))}\n".encode()
        start_response("200 OK", [
            ("Content-Type", "application/json"), ("Content-Length", str(len(payload))),
            ("X-Content-Type-Options", "nosniff"), (access.HEADER, request_id)])
        elapsed = time.perf_counter() - started
        self.timer.observe(elapsed)
        path = environ["PATH_INFO"]
        access.write_line(logging.DEBUG, "POST",
                          path if len(path) <= access.MAX_PATH else path[:access.MAX_PATH] + "...",
                          200, round(elapsed * 1000, 1), f"robot:{robot_id}", request_id)
        return [payload]
