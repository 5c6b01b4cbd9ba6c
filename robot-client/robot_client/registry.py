"""registry-api as robot-client uses it (requests): a user's token, robots and modules."""

from __future__ import annotations

import uuid
from typing import Any, Iterator

import requests

TIMEOUT_S = 15
PAGE = 500


class RegistryError(Exception):
    """registry-api refused a call: ``status``, its ``error`` code, message and ``fields``."""

    def __init__(self, status: int, body: Any) -> None:
        body = body if isinstance(body, dict) else {}
        self.status = status
        self.error = body.get("error", "")
        self.fields: list[dict[str, str]] = body.get("fields") or []
        super().__init__(body.get("message") or f"registry-api answered {status}")


class RegistryUnreachable(Exception):
    """No answer from registry-api at all."""


def _answer(response: requests.Response, ok: int) -> Any:
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code != ok:
        raise RegistryError(response.status_code, body)
    return body


def sign_in(url: str, username: str, password: str) -> str:
    """A new bearer token for the user (POST /api/auth/tokens)."""
    try:
        response = requests.post(f"{url.rstrip('/')}/api/auth/tokens", timeout=TIMEOUT_S,
                                 json={"username": username, "password": password,
                                       "label": "robot-client"})
    except requests.RequestException as error:
        raise RegistryUnreachable(f"registry-api at {url} is unreachable ({type(error).__name__})") \
            from None
    return _answer(response, 201)["token"]


def is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


class Registry:
    """registry-api's /api/v1 with a user's bearer token."""

    def __init__(self, url: str, token: str) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {token}"

    def _call(self, method: str, path: str, ok: int, **kwargs: Any) -> Any:
        try:
            response = self.http.request(method, f"{self.url}/api/v1/{path}", timeout=TIMEOUT_S,
                                         **kwargs)
        except requests.RequestException as error:
            raise RegistryUnreachable(f"registry-api at {self.url} is unreachable "
                                      f"({type(error).__name__})") from None
        return _answer(response, ok)

    def get(self, resource: str, item_id: str) -> dict[str, Any]:
        return self._call("GET", f"{resource}/{item_id}", 200)

    def create(self, resource: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._call("POST", resource, 201, json=body)

    def patch(self, resource: str, item_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._call("PATCH", f"{resource}/{item_id}", 200, json=body)

    def each(self, resource: str, **filters: str) -> Iterator[dict[str, Any]]:
        """Every item of a resource, by name, page after page."""
        offset = 0
        while True:
            page = self._call("GET", resource, 200, params={
                **filters, "limit": PAGE, "offset": offset, "sort": "name"})
            yield from page["items"]
            offset += len(page["items"])
            if not page["items"] or offset >= page["total"]:
                return

    def find_robot(self, given: str) -> dict[str, Any] | None:
        """The robot with id ``given``, or else the one named ``given``."""
        if is_uuid(given):
            try:
                return self.get("robots", given)
            except RegistryError as error:
                if error.status != 404:
                    raise
        return next((r for r in self.each("robots") if r["name"] == given), None)
