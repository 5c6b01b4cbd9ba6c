"""The registry phase's requests: bodies, and factories that the load processes (pickled:
see loadgen.FixedRequest) or wrk (bench/wrk.py) turn into requests."""

from __future__ import annotations

import json
import random
from dataclasses import replace

from bench.loadgen import FixedRequest
from bench.wrk import WrkRequests

API = "/api/v1"


def _json(payload: dict) -> bytes:
    return json.dumps(payload).encode()


class RobotPosts:
    """POST /robots on one level, a unique name and a password each."""

    def __init__(self, level_id: str, tag: str) -> None:
        self.level_id, self.tag = level_id, tag

    def __call__(self, process: int, thread: int, n: int):
        return "POST", f"{API}/robots", _json(robot_body(self.level_id, f"{self.tag}-{process}-{thread}-{n}"))


class RobotGets:
    """GET /robots/{id}, the id drawn at random among ``ids``."""

    def __init__(self, ids: list[str]) -> None:
        self.ids = ids

    def __call__(self, process: int, thread: int, n: int):
        return "GET", f"{API}/robots/{random.choice(self.ids)}", None

    def wrk(self) -> WrkRequests:
        return WrkRequests("GET", f"{API}/robots/{{id}}", ids=tuple(self.ids))


class ModulePosts:
    """POST /modules: a unique name, robot_id drawn at random among ``robot_ids``."""

    def __init__(self, robot_ids: list[str], tag: str) -> None:
        self.robot_ids, self.tag = robot_ids, tag

    def __call__(self, process: int, thread: int, n: int):
        return "POST", f"{API}/modules", _json(module_body(random.choice(self.robot_ids),
                                                           f"{self.tag}-{process}-{thread}-{n}"))

    def wrk(self) -> WrkRequests:
        return WrkRequests("POST", f"{API}/modules", json.dumps(module_body(
            "{id}", f"{self.tag}-wrk-{{unique}}")), ids=tuple(self.robot_ids))


def wrk_requests(factory, headers: dict[str, str] | None = None) -> WrkRequests:
    """The same requests as a loadgen factory, for wrk, with ``headers`` on each."""
    if isinstance(factory, FixedRequest):
        requests = WrkRequests(factory.method, factory.path,
                               factory.body.decode() if factory.body is not None else None)
    else:
        requests = factory.wrk()
    return replace(requests, headers=tuple((headers or {}).items()))


def robot_body(level_id: str, name: str) -> dict:
    return {"name": f"robot-{name}", "level_id": level_id, "owner": "Bench",
            "owner_email": "bench@example.com", "status": "IDLE", "network_ssid": "robots",
            "ip_address": "10.0.1.19", "port": 7000, "password": f"secret-{name}"}


def module_body(robot_id: str, name: str) -> dict:
    return {"robot_id": robot_id, "name": f"module-{name}", "type": "lidar",
            "ip_address": "10.0.2.7", "port": 7001, "status": "IDLE"}
