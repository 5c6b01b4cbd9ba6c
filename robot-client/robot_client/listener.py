"""The robot's listener for its modules: ``POST /modules/status`` ``{"module_id", "status"}``
on the robot's registered ip_address and port (aiohttp, in the engine's event loop).

Answers are JSON, errors too: 400 malformed JSON, 413 over MAX_BODY_BYTES, 415 not JSON,
422 per field, 404 a module that is not this robot's (or any other path), 405 another method.
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

from aiohttp import web

from .engine import RobotEngine
from .simulation import STATUSES

log = logging.getLogger(__name__)
ROUTE = "/modules/status"
CODES = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}  # as Flask's


def _error(status: int, error: str, message: str, **extra: Any) -> web.Response:
    return web.json_response({"error": error, "message": message, **extra}, status=status)


def _is_uuid(value: Any) -> bool:
    try:
        uuid.UUID(value)
    except (TypeError, ValueError, AttributeError):
        return False
    return True


def _problems(body: Any) -> list[dict[str, str]]:
    if not isinstance(body, dict):
        return [{"field": "body", "message": "must be a JSON object"}]
    problems = [{"field": name, "message": "unknown field"}
                for name in sorted(set(body) - {"module_id", "status"})]
    if not _is_uuid(body.get("module_id")):
        problems.append({"field": "module_id", "message": "must be a module's id (a UUID)"})
    if body.get("status") not in STATUSES:
        problems.append({"field": "status", "message": f"must be one of {', '.join(STATUSES)}"})
    return problems


@web.middleware
async def json_errors(request: web.Request, handler):
    """aiohttp's own errors (404, 405, 413) as JSON, like every other service's."""
    try:
        return await handler(request)
    except web.HTTPException as error:
        if error.status < 400:
            raise
        extra = {"allowed": sorted(error.allowed_methods)} \
            if isinstance(error, web.HTTPMethodNotAllowed) else {}
        code = CODES.get(error.status, error.reason.lower().replace(" ", "_"))
        return _error(error.status, code, error.reason, **extra)


class ModuleListener:
    """Serves the modules of ``engines`` (one robot for ``run``)."""

    def __init__(self, engines: list[RobotEngine], max_body_bytes: int) -> None:
        self.engines = engines
        self.app = web.Application(middlewares=[json_errors], client_max_size=max_body_bytes)
        self.app.router.add_post(ROUTE, self.module_status)
        self.runner: web.AppRunner | None = None

    async def module_status(self, request: web.Request) -> web.Response:
        """A module reports its new status; the robot sends it in its next heartbeat."""
        if request.content_type != "application/json":
            return _error(415, "unsupported_media_type", "send the body as application/json")
        raw = await request.read()
        try:
            body = json.loads(raw)
        except ValueError:  # UnicodeDecodeError included
            return _error(400, "malformed_json", "the body is not valid JSON")
        problems = _problems(body)
        if problems:
            summary = "; ".join(f"{p['field']}: {p['message']}" for p in problems)
            return _error(422, "validation_error", summary, fields=problems)
        module_id = str(uuid.UUID(body["module_id"]))
        for engine in self.engines:
            at = await engine.set_module_status(module_id, body["status"])
            if at is not None:
                return web.json_response({"module_id": module_id, "status": body["status"],
                                          "last_online": at})
        return _error(404, "not_found", f"module {module_id} is not a module of this robot")

    async def start(self, host: str, port: int) -> None:
        self.runner = web.AppRunner(self.app, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, host, port).start()
        log.info("listening for modules on %s:%d (POST %s)", host, port, ROUTE)

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
