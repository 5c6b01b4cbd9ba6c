"""Request ids and the access log of every HTTP service (wired once, in web.service_app).

Each request gets an id: the client's ``X-Request-ID`` when it is 1 to 64 characters of
``[A-Za-z0-9._:-]``, otherwise a new one (uuid4 hex). It is bound to the request's log lines
(logs.bind_request_id: every line logged while serving it carries ``request_id``) and echoed in
the response's ``X-Request-ID``. When the answer is ready, one access line says what was asked
and how it went: method, path (never the query string), status, duration in ms, the signed-in
user's name (``-`` for nobody; ``uplink-key`` for a service presenting the uplink key,
``robot:<id>`` for a robot's session) and the request id.
/health and /metrics log theirs at DEBUG, so probes do not drown the log; so do the successful
answers of calls a view marks ``routine()`` (a robot's heartbeat and command poll: a fleet of
2,000 robots makes 2,000 a second). Their refusals and errors stay at INFO.
"""

from __future__ import annotations

import logging
import time

from flask import Flask, Response, g, request

from .logs import bind_request_id, request_id_from

HEADER = "X-Request-ID"
MAX_PATH = 200  # characters of the path an access line shows (a request line may be 1 MiB)
QUIET_PATHS = frozenset({"/health", "/metrics"})

log = logging.getLogger("mission_control.access")

def _start() -> None:
    g.access_started = time.perf_counter()
    g.request_id = request_id_from(request.headers.get(HEADER))
    bind_request_id(g.request_id)


def name_caller(name: str) -> None:
    """Who the access line names for a caller that is not a signed-in user: ``uplink-key``
    for a service presenting the uplink key, ``robot:<id>`` for a robot's session."""
    g.access_caller = name


def routine() -> None:
    """This request happens all the time: its access line goes at DEBUG unless it fails."""
    g.access_routine = True


def _user() -> str:
    # authweb's guard puts the signed-in caller's Identity there (current_identity());
    # a public view or a refusal leaves none, and other callers are named by name_caller.
    identity = g.get("identity")
    return identity.username if identity is not None else g.get("access_caller", "-")


def _finish(response: Response) -> Response:
    request_id = g.get("request_id") or request_id_from(None)
    response.headers[HEADER] = request_id
    started = g.get("access_started")
    duration_ms = round((time.perf_counter() - started) * 1000, 1) if started else None
    path = request.path if len(request.path) <= MAX_PATH else request.path[:MAX_PATH] + "..."
    quiet = request.path in QUIET_PATHS or (g.get("access_routine")
                                            and response.status_code < 400)
    write_line(logging.DEBUG if quiet else logging.INFO, request.method, path,
               response.status_code, duration_ms, _user(), request_id)
    return response


def write_line(level: int, method: str, path: str, status: int, duration_ms: float | None,
               user: str, request_id: str) -> None:
    """One access line (built only when ``level`` is logged: a fleet's heartbeats go at
    DEBUG); robot-server's heartbeat fast path writes its own through here too."""
    if log.isEnabledFor(level):
        log.log(level, "request", extra={
            "method": method[:16], "path": path, "status": status,
            "duration_ms": duration_ms, "user": user, "request_id": request_id})


def _unbind(_error: BaseException | None) -> None:
    bind_request_id(None)


def install(app: Flask) -> None:
    """Give every request of ``app`` an id and an access line. Install it before any other
    before_request function, so even a request they refuse has both."""
    app.before_request_funcs.setdefault(None, []).insert(0, _start)
    # after_request functions run last-registered first: the first one sees the final status.
    app.after_request_funcs.setdefault(None, []).insert(0, _finish)
    app.teardown_request(_unbind)
