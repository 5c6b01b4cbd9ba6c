"""What a simulated robot is and does, without any I/O: its telemetry, its modules' statuses
and the outcome of a command (the catalog's MODULE_TRANSITIONS decide module commands)."""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from mission_control.catalog import MODULE_TRANSITIONS

STATUSES = ("RUNNING", "IDLE", "FAILED")  # the order the module CLI's prompt names them
BOUNDS = {"x": 1000.0, "y": 1000.0, "z": 100.0}  # MOVE_TO's bounds, metres


@dataclass(frozen=True)
class Outcome:
    """A command's result as robot-server takes it."""

    status: str  # EXECUTED or FAILED
    detail: str | None
    module_status: str | None

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status, "detail": self.detail, "module_status": self.module_status}


class TelemetryBuffer:
    """The points a robot could not send yet, at most ``size``; the oldest go first."""

    def __init__(self, size: int) -> None:
        self.points: deque[dict[str, Any]] = deque(maxlen=size)
        self.dropped = 0

    def add(self, point: dict[str, Any]) -> None:
        if len(self.points) == self.points.maxlen:
            self.dropped += 1
        self.points.append(point)

    def newest(self) -> dict[str, Any] | None:
        return self.points[-1] if self.points else None

    def flush(self) -> tuple[int, int]:
        """Empty it: (points it held, points dropped since the last flush)."""
        counts = (len(self.points), self.dropped)
        self.points.clear()
        self.dropped = 0
        return counts


@dataclass
class SimulatedRobot:
    """A robot's state: status, modules (id -> status), battery, temperature, position."""

    modules: dict[str, str] = field(default_factory=dict)
    status: str = "IDLE"
    battery: float = 100.0
    temperature: float = 25.0
    speed_m_s: float = 1.0
    position: dict[str, float] = field(default_factory=lambda: {"x": 0.0, "y": 0.0, "z": 0.0})
    rng: random.Random = field(default_factory=random.Random)

    def telemetry(self) -> dict[str, Any]:
        """The next point: the battery drains slowly, temperature and CPU wander."""
        self.battery = max(0.0, self.battery - self.rng.uniform(0.0, 0.05))
        self.temperature = min(80.0, max(-20.0, self.temperature + self.rng.uniform(-0.5, 0.5)))
        cpu = self.rng.uniform(30.0, 90.0) if self.status == "RUNNING" else \
            self.rng.uniform(2.0, 20.0)
        return {"battery": round(self.battery, 2), "temperature": round(self.temperature, 2),
                "cpu": round(cpu, 1), "position": dict(self.position)}

    def heartbeat(self, telemetry: dict[str, Any] | None) -> dict[str, Any]:
        body: dict[str, Any] = {"status": self.status, "modules": [
            {"module_id": module_id, "status": status}
            for module_id, status in self.modules.items()]}
        if telemetry is not None:
            body["telemetry"] = telemetry
        return body

    def execute(self, command: dict[str, Any], failure_rate: float) -> Outcome:
        """Carry out ``command``: a module command moves its module as MODULE_TRANSITIONS says
        (refused, module unchanged, when the module is in another status); any execution
        fails with probability ``failure_rate``, which leaves a module FAILED."""
        name = command["command_name"]
        module_id = command.get("module_id")
        if module_id is not None:
            return self._execute_on_module(name, str(module_id), failure_rate)
        if self.rng.random() < failure_rate:
            return Outcome("FAILED", f"{name} failed on the robot (simulated failure)", None)
        args = command.get("args") or {}
        if name == "MOVE_TO":
            self.position = {axis: float(args.get(axis, 0.0)) for axis in BOUNDS}
        elif name == "SET_SPEED":
            self.speed_m_s = float(args.get("speed_m_s", self.speed_m_s))
        elif name == "DOCK":
            self.position = {"x": 0.0, "y": 0.0, "z": 0.0}
            self.battery = 100.0
        return Outcome("EXECUTED", None, None)

    def _execute_on_module(self, name: str, module_id: str, failure_rate: float) -> Outcome:
        current = self.modules.get(module_id)
        if current is None:
            return Outcome("FAILED", f"module {module_id} is not a module of this robot", None)
        if name in MODULE_TRANSITIONS:
            needed, after = MODULE_TRANSITIONS[name]
            if current != needed:
                return Outcome("FAILED", f"{name} needs the module {needed}, it is {current}",
                               current)
        else:
            after = current
        if self.rng.random() < failure_rate:
            self.modules[module_id] = "FAILED"
            return Outcome("FAILED", f"{name} failed on the module (simulated failure)", "FAILED")
        self.modules[module_id] = after
        return Outcome("EXECUTED", None, after)
