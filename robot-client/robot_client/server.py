"""robot-server's robot routes as seen by one robot (aiohttp): each answer that is not a plain
success becomes one of a few exceptions the engine knows how to handle."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp

# Long polls ask robot-server to wait this long; the HTTP call itself waits a little more.
POLL_WAIT_S = 20
CALL_TIMEOUT_S = 10
# Opening a session costs robot-server an argon2 check, queued behind others' in a storm:
# giving up sooner would only leave it to open a session nobody receives, and ask again.
SESSION_TIMEOUT_S = 60


class Unavailable(Exception):
    """robot-server cannot be reached or failed (connection error, timeout, 5xx): retry."""


class RetryAfter(Exception):
    """429 or 503 with Retry-After: try again after ``seconds``."""

    def __init__(self, seconds: float, message: str) -> None:
        super().__init__(message)
        self.seconds = seconds


class WrongPassword(Exception):
    """robot-server refused the robot's password: retrying cannot help (nor for
    UnknownRobot)."""


class UnknownRobot(WrongPassword):
    """robot-server knows no robot with this id (404 on opening a session)."""


class SessionLost(Exception):
    """401 on a call with a token: the session expired or was lost; open a new one."""


class NotServed(Exception):
    """404 or 405 for a route: this robot-server does not serve it (or the robot is gone)."""


class Refused(Exception):
    """Any other 4xx: the request itself is wrong; retrying it as is cannot help."""


class Conflict(Exception):
    """409: a command already acknowledged, finished or expired (``error`` says which)."""

    def __init__(self, message: str, error: str = "") -> None:
        super().__init__(message)
        self.error = error


def _retry_after(response: aiohttp.ClientResponse) -> float:
    try:
        return max(0.0, float(response.headers.get("Retry-After", "1")))
    except ValueError:
        return 1.0


class RobotServer:
    """The calls of one robot; ``token`` is its session's bearer token once opened."""

    def __init__(self, http: aiohttp.ClientSession, base_url: str, robot_id: str) -> None:
        self.http = http
        self.base = f"{base_url.rstrip('/')}/robots/{robot_id}"
        self.token: str | None = None

    async def _call(self, method: str, path: str, *, body: Any = None, params=None,
                    timeout: float = CALL_TIMEOUT_S, token: bool = True) -> tuple[int, Any, Any]:
        headers = {"Authorization": f"Bearer {self.token}"} if token and self.token else {}
        try:
            async with self.http.request(method, self.base + path, json=body, params=params,
                                         headers=headers,
                                         timeout=aiohttp.ClientTimeout(total=timeout)) as response:
                try:
                    data = await response.json(content_type=None)
                except ValueError:
                    data = None
                return response.status, data, response
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as error:
            raise Unavailable(f"{method} {path or '/'}: {type(error).__name__} {error}".strip()) \
                from None

    @staticmethod
    def _check(status: int, data: Any, response, *, ok: tuple[int, ...]) -> Any:
        if status in ok:
            return data
        message = data.get("message", "") if isinstance(data, dict) else ""
        if status in (429, 503) and "Retry-After" in response.headers:
            raise RetryAfter(_retry_after(response), f"{status} {message}")
        if status >= 500:
            raise Unavailable(f"robot-server answered {status} {message}")
        if status == 401:
            raise SessionLost(message)
        if status in (404, 405):
            raise NotServed(f"{status} {message}")
        if status == 409:
            raise Conflict(message, data.get("error", "") if isinstance(data, dict) else "")
        raise Refused(f"{status} {message}")

    async def open_session(self, password: str) -> str:
        status, data, response = await self._call("POST", "/session", token=False,
                                                  body={"password": password},
                                                  timeout=SESSION_TIMEOUT_S)
        if status == 401:
            raise WrongPassword("robot-server refused the robot's password")
        if status == 404:
            raise UnknownRobot("robot-server knows no robot with this id")
        self._check(status, data, response, ok=(201,))
        self.token = data["token"]
        return self.token

    async def profile(self) -> dict[str, Any]:
        status, data, response = await self._call("GET", "")
        return self._check(status, data, response, ok=(200,))

    async def heartbeat(self, body: dict[str, Any]) -> dict[str, Any]:
        status, data, response = await self._call("POST", "/heartbeat", body=body)
        return self._check(status, data, response, ok=(200,))

    async def poll_commands(self, wait: float = POLL_WAIT_S) -> list[dict[str, Any]]:
        status, data, response = await self._call("GET", "/commands", params={"wait": str(wait)},
                                                  timeout=wait + CALL_TIMEOUT_S)
        return self._check(status, data, response, ok=(200,))["commands"]

    async def acknowledge(self, command_id: str) -> None:
        status, data, response = await self._call("POST", f"/commands/{command_id}/ack")
        self._check(status, data, response, ok=(200,))

    async def report(self, command_id: str, result: dict[str, Any]) -> None:
        status, data, response = await self._call("POST", f"/commands/{command_id}/result",
                                                  body=result)
        self._check(status, data, response, ok=(200,))

    async def progress(self, command_id: str, progress: dict[str, Any]) -> dict[str, Any]:
        status, data, response = await self._call("POST", f"/commands/{command_id}/progress",
                                                  body=progress)
        return self._check(status, data, response, ok=(200,))

    async def close_session(self) -> None:
        status, data, response = await self._call("DELETE", "/session")
        self.token = None
        if status != 401:  # an expired session is closed already
            self._check(status, data, response, ok=(204,))
