"""HTTP client for the uplink protocol (DESIGN.md) spoken by the spacecraft and robot-server."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from mission_control.settings import Settings

# Which service carries the uplink for each kind of target.
UPLINK_SETTING = {"spacecraft": "spacecraft_url", "robot": "robot_server_url",
                  "module": "robot_server_url"}


class TransientError(Exception):
    """The target could not be reached or answered 5xx/429: worth trying again later."""


class PermanentError(Exception):
    """The target refused the command (4xx): trying again cannot help."""


@dataclass(frozen=True)
class TargetReport:
    state: str          # RECEIVED, EXECUTING, EXECUTED or FAILED
    detail: str | None
    executions: int


def _message(response: requests.Response) -> str:
    try:
        body = response.json()
        text = body.get("message") or body.get("error") or response.text
    except ValueError:
        text = response.text
    return f"HTTP {response.status_code}: {str(text)[:300]}"


class Uplink:
    """Pooled, timed-out HTTP calls; retrying is the worker's business, not this client's."""

    def __init__(self, settings: Settings, pool_size: int = 32) -> None:
        self.settings = settings
        self.timeout = (min(2.0, settings.uplink_timeout_s), settings.uplink_timeout_s)
        self.session = requests.Session()
        # Targets are found by the *_URL settings alone: no proxy or .netrc look-ups per call
        # (they were a large share of the worker's CPU).
        self.session.trust_env = False
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool_size, max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def base_url(self, kind: str) -> str:
        setting = UPLINK_SETTING.get(kind)
        if setting is None:
            raise PermanentError(f"no uplink for targets of kind {kind!r}")
        return getattr(self.settings, setting).rstrip("/")

    def _call(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        try:
            response = self.session.request(method, url, timeout=self.timeout, **kwargs)
        except requests.RequestException as error:
            raise TransientError(f"{type(error).__name__} on {method} {url}") from None
        if response.status_code >= 500 or response.status_code == 429:
            raise TransientError(f"{method} {url}: {_message(response)}")
        return response

    def send(self, kind: str, command: dict[str, Any]) -> None:
        """POST /commands; returns once the target acknowledged (202) the command."""
        url = f"{self.base_url(kind)}/commands"
        response = self._call("POST", url, json=command)
        if response.status_code not in (200, 201, 202):
            raise PermanentError(f"target refused the command: {_message(response)}")

    def report(self, kind: str, command_id: str) -> TargetReport:
        """GET /commands/{id}: the target's own view of the command."""
        url = f"{self.base_url(kind)}/commands/{command_id}"
        response = self._call("GET", url)
        if response.status_code == 404:
            raise PermanentError("the target has no record of the command")
        if response.status_code != 200:
            raise PermanentError(f"unexpected answer: {_message(response)}")
        try:
            body = response.json()
            return TargetReport(state=str(body["state"]), detail=body.get("detail"),
                                executions=int(body.get("executions", 0)))
        except (ValueError, KeyError, TypeError):
            raise TransientError(f"unreadable report from {url}") from None

    def close(self) -> None:
        self.session.close()
