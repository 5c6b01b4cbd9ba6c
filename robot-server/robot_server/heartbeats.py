"""Heartbeats written together: each robot-server process collects the heartbeats it answered
and writes them every HEARTBEAT_FLUSH_S in one transaction (presence.record).

A fleet of N robots sends N heartbeats a second. Written one by one, each would cost a
transaction and a commit of its own; collected, one commit carries them all, and a robot
that sent two within one period costs one row write. The price: the registry shows a
heartbeat up to HEARTBEAT_FLUSH_S late, and heartbeats answered in the last period before a
process dies are not written (the robot's next one is). While the writer does not run (the
Flask test client, HEARTBEAT_FLUSH_S=0) each heartbeat is written in its own request.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select

from mission_control.db import Database
from mission_control.periodic import Periodic
from mission_control.registry_models import Module
from mission_control.web import invalid

from . import presence
from .schemas import Heartbeat, Telemetry

log = logging.getLogger(__name__)

OWNERS_CACHE_S = 5.0
OWNERS_MAX = 100_000


@dataclass
class Beat:
    """The latest heartbeat of one robot (several of one period merged: the newest wins).
    ``status`` None: a telemetry message alone (MQTT), which keeps the robot's status."""

    robot_id: uuid.UUID
    session_id: int
    status: str | None
    at: datetime
    modules: dict[uuid.UUID, str] = field(default_factory=dict)
    telemetry: dict[str, Any] | None = None

    def merge(self, newer: Beat) -> Beat:
        return Beat(newer.robot_id, newer.session_id, newer.status or self.status, newer.at,
                    {**self.modules, **newer.modules},
                    newer.telemetry if newer.telemetry is not None else self.telemetry)


def beat_of(robot_id: uuid.UUID, session_id: int, at: datetime,
            body: Heartbeat | Telemetry) -> Beat:
    """What a heartbeat body (HTTP, or MQTT's status topic) or a telemetry point alone
    (MQTT's telemetry topic) records."""
    if isinstance(body, Telemetry):
        return Beat(robot_id, session_id, None, at, {}, body.model_dump(exclude_none=True))
    telemetry = body.telemetry.model_dump(exclude_none=True) if body.telemetry else None
    return Beat(robot_id, session_id, body.status, at,
                {m.module_id: m.status for m in body.modules}, telemetry)


class ModuleOwners:
    """Which modules belong to which robot, kept for OWNERS_CACHE_S per robot: a heartbeat
    naming modules costs no query while its robot's modules are known. A module missing
    from the kept set is looked up again before it is refused."""

    def __init__(self, database: Database, cache_s: float = OWNERS_CACHE_S) -> None:
        self.database = database
        self.cache_s = cache_s
        self._kept: dict[uuid.UUID, tuple[float, frozenset[uuid.UUID]]] = {}

    def _load(self, robot_id: uuid.UUID) -> frozenset[uuid.UUID]:
        with self.database.autocommit() as connection:
            owned = frozenset(connection.scalars(select(Module.id)
                                                 .where(Module.robot_id == robot_id)))
        if len(self._kept) >= OWNERS_MAX:
            self._kept.clear()
        self._kept[robot_id] = (time.monotonic() + self.cache_s, owned)
        return owned

    def check(self, robot_id: uuid.UUID, module_ids: list[uuid.UUID]) -> None:
        """ApiError 422 naming each module that is not this robot's."""
        if not module_ids:
            return
        kept = self._kept.get(robot_id)
        fresh = kept is None or kept[0] <= time.monotonic()
        owned = self._load(robot_id) if fresh else kept[1]
        if not fresh and not owned.issuperset(module_ids):
            owned = self._load(robot_id)  # a module added since: look again
        wrong = [{"field": f"modules.{index}.module_id",
                  "message": f"module {module_id} is not a module of this robot"}
                 for index, module_id in enumerate(module_ids) if module_id not in owned]
        if wrong:
            raise invalid(wrong)


class HeartbeatWriter(Periodic):
    """``submit`` a heartbeat; ``start()`` writes what was submitted every ``flush_s`` in a
    daemon thread until ``stop()``, which writes the rest (under mc-serve: one per worker)."""

    name = "heartbeat-writer"

    def __init__(self, database: Database, flush_s: float) -> None:
        super().__init__(flush_s)
        self.database = database
        self._pending: dict[uuid.UUID, Beat] = {}
        self._lock = threading.Lock()

    @property
    def batching(self) -> bool:
        return self.running

    def submit(self, beat: Beat) -> None:
        if not self.batching:
            presence.record(self.database, [beat])
            return
        with self._lock:
            earlier = self._pending.get(beat.robot_id)
            self._pending[beat.robot_id] = earlier.merge(beat) if earlier else beat

    def discard(self, robot_id: uuid.UUID) -> None:
        """Forget a robot's heartbeat not yet written (its session is being closed)."""
        with self._lock:
            self._pending.pop(robot_id, None)

    def flush(self) -> int:
        """Write what was submitted; how many robots' heartbeats that was."""
        with self._lock:
            beats, self._pending = self._pending, {}
        if not beats:
            return 0
        try:
            presence.record(self.database, list(beats.values()))
        except Exception:
            # The database is away for a moment: keep them for the next pass, unless newer
            # heartbeats of the same robots came in meanwhile.
            with self._lock:
                for robot_id, beat in beats.items():
                    newer = self._pending.get(robot_id)
                    self._pending[robot_id] = beat.merge(newer) if newer else beat
            raise
        return len(beats)

    def run_once(self) -> int:
        return self.flush()

    def stopped(self) -> None:
        try:
            self.flush()
        except Exception:
            log.warning("heartbeats of the last %ss not written", self.period_s, exc_info=True)
