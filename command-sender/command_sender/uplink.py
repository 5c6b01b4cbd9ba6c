"""HTTP client for the uplink protocol (docs/uplink.md) spoken by the spacecraft and robot-server."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from mission_control import keys
from mission_control.settings import Settings

# Which service carries the uplink for each kind of target.
UPLINK_SETTING = {"spacecraft": "spacecraft_url", "robot": "robot_server_url",
                  "module": "robot_server_url"}


class TransientError(Exception):
    """The target could not be reached or answered 5xx/429: worth trying again later."""


class KeyRefused(TransientError):
    """The target answered 401: it does not take our UPLINK_KEY. Nothing is wrong with the
    commands; they wait until the keys agree (an operator fixes UPLINK_KEY)."""


class PermanentError(Exception):
    """The target refused the command (4xx): trying again cannot help."""


@dataclass(frozen=True)
class TargetReport:
    state: str          # RECEIVED, EXECUTING, EXECUTED or FAILED
    detail: str | None
    executions: int


def _items(response: requests.Response, key: str, url: str) -> list[Any]:
    """The list ``key`` of a JSON answer; TransientError when the answer is not readable."""
    try:
        items = response.json()[key]
        if not isinstance(items, list):
            raise TypeError(key)
        return items
    except (ValueError, KeyError, TypeError):
        raise TransientError(f"unreadable answer from {url}") from None


def _message(response: requests.Response) -> str:
    try:
        body = response.json()
        text = body.get("message") or body.get("error") or response.text
    except ValueError:
        text = response.text
    return f"HTTP {response.status_code}: {str(text)[:300]}"


def _request_id_header(request_id: str | None) -> dict[str, str]:
    return {"X-Request-ID": request_id} if request_id else {}


class Uplink:
    """Pooled, timed-out HTTP calls, each with ``Authorization: Bearer <UPLINK_KEY>``;
    retrying is the worker's business, not this client's."""

    def __init__(self, settings: Settings, pool_size: int = 8) -> None:
        self.settings = settings
        self.timeout = (min(2.0, settings.uplink_timeout_s), settings.uplink_timeout_s)
        self.session = requests.Session()
        # Targets are found by the *_URL settings alone: no proxy or .netrc look-ups per call
        # (they were a large share of the worker's CPU).
        self.session.trust_env = False
        # The key every target's uplink asks for (env UPLINK_KEY, else var/uplink-key).
        self.session.headers["Authorization"] = f"Bearer {keys.uplink_key(settings)}"
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool_size, max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def base_url(self, kind: str | None) -> str | None:
        """Where the uplink of a kind of target is served; None when no service carries it."""
        setting = UPLINK_SETTING.get(kind or "")
        return getattr(self.settings, setting).rstrip("/") if setting else None

    def _call(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        try:
            response = self.session.request(method, url, timeout=self.timeout, **kwargs)
        except requests.RequestException as error:
            raise TransientError(f"{type(error).__name__} on {method} {url}") from None
        if response.status_code == 401:
            raise KeyRefused(f"{method} {url}: HTTP 401: the target refused our UPLINK_KEY")
        if response.status_code >= 500 or response.status_code == 429:
            raise TransientError(f"{method} {url}: {_message(response)}")
        return response

    def send(self, base_url: str, commands: list[dict[str, Any]],
             request_id: str | None = None) -> dict[str, str | None]:
        """POST /commands (batch form): each id -> None when acknowledged, else the refusal.
        ``request_id`` is sent as X-Request-ID (the target's log lines show it).

        Raises TransientError when the batch may be worth sending again, PermanentError when
        the target refused the batch as a whole.
        """
        url = f"{base_url}/commands"
        response = self._call("POST", url, json={"commands": commands},
                              headers=_request_id_header(request_id))
        if response.status_code not in (200, 201, 202):
            raise PermanentError(f"target refused the commands: {_message(response)}")
        items = _items(response, "acknowledgements", url)
        answers: dict[str, str | None] = {}
        try:
            for item in items:
                if item.get("acknowledged") is True:
                    answers[str(item["id"])] = None
                else:
                    # The batch form's refusal of one command is the single form's 422.
                    message = item.get("message") or item.get("error") or "refused"
                    answers[str(item["id"])] = (f"target refused the command: HTTP 422: "
                                                f"{str(message)[:300]}")
        except (AttributeError, KeyError, TypeError):
            raise TransientError(f"unreadable answer from {url}") from None
        missing = {c["id"] for c in commands} - answers.keys()
        if missing:
            raise TransientError(f"{url} did not answer for {len(missing)} of the commands")
        return answers

    def query(self, base_url: str, ids: list[str],
              request_id: str | None = None) -> dict[str, TargetReport | None]:
        """POST /commands/query: each id -> the target's report, or None when it has none."""
        url = f"{base_url}/commands/query"
        response = self._call("POST", url, json={"ids": ids},
                              headers=_request_id_header(request_id))
        if response.status_code != 200:
            raise PermanentError(f"unexpected answer: {_message(response)}")
        reports: dict[str, TargetReport | None] = {}
        try:
            for item in _items(response, "commands", url):
                reports[str(item["id"])] = TargetReport(
                    state=str(item["state"]), detail=item.get("detail"),
                    executions=int(item.get("executions", 0)))
        except (AttributeError, KeyError, TypeError, ValueError):
            raise TransientError(f"unreadable answer from {url}") from None
        for unknown in _items(response, "unknown", url):
            reports[str(unknown)] = None
        missing = set(ids) - reports.keys()
        if missing:
            raise TransientError(f"{url} did not answer for {len(missing)} of the commands")
        return reports

    def close(self) -> None:
        self.session.close()
