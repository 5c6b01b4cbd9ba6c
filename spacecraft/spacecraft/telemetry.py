"""The spacecraft's telemetry: every TELEMETRY_INTERVAL_S it samples its state (what the
executed commands made of it, plus a simulated temperature and battery) and pushes the points
to ground's POST /api/telemetry with its service token (mission_control.service_token).

A failing push (ground away, token refused) is logged, without the token, and the next
interval tries again with fresh points: nothing is queued and nothing stops the spacecraft.
Under mc-serve every gunicorn worker runs a pusher, but only the one holding a lock on
var/spacecraft-telemetry.lock pushes; when it exits, another takes the lock at its next pass.
"""

from __future__ import annotations

import fcntl
import json
import logging
import math
import random
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

from mission_control.periodic import Periodic
from mission_control.service_token import telemetry_token
from mission_control.settings import Settings
from mission_control.timeutil import utcnow

from .schemas import StateReport

log = logging.getLogger(__name__)

SOURCE = "spacecraft"
LOCK_FILE = "spacecraft-telemetry.lock"
PUSH_TIMEOUT_S = 5.0
# The simulation: the temperature tends to the heater's setpoint or to the cold of space
# (time constant TAU_S); the battery charges with the solar array out and drains otherwise,
# faster with the heater on (per cent per second).
HEATER_ON_C, HEATER_OFF_C, TAU_S, NOISE_C = 22.0, -5.0, 120.0, 0.2
CHARGE, DRAIN, HEATER_DRAIN = 0.05, 0.02, 0.03


@dataclass
class Simulation:
    temperature: float = 10.0
    battery: float = 80.0
    at: datetime | None = None

    def step(self, state: StateReport, now: datetime, rng: random.Random) -> None:
        elapsed = (now - self.at).total_seconds() if self.at else 0.0
        self.at = now
        target = HEATER_ON_C if state.heater_on else HEATER_OFF_C
        self.temperature += (target - self.temperature) * (1 - math.exp(-elapsed / TAU_S))
        self.temperature += rng.gauss(0, NOISE_C)
        rate = (CHARGE if state.solar_array_deployed else -DRAIN) - \
            (HEATER_DRAIN if state.heater_on else 0.0)
        self.battery = min(100.0, max(0.0, self.battery + rate * elapsed))


def points_of(state: StateReport, simulation: Simulation, now: datetime) -> list[dict[str, Any]]:
    """The points of one sample, all at ``now``."""
    values = [("temperature", simulation.temperature, "degC"), ("battery", simulation.battery, "%"),
              ("attitude_roll", state.attitude.roll, "deg"),
              ("attitude_pitch", state.attitude.pitch, "deg"),
              ("attitude_yaw", state.attitude.yaw, "deg"),
              ("heater", float(state.heater_on), None),
              ("solar_array", float(state.solar_array_deployed), None)]
    stamp = now.isoformat()
    return [{"source": SOURCE, "parameter": name, "value": round(value, 3), "unit": unit,
             "time": stamp} for name, value, unit in values]


class TelemetryPusher(Periodic):
    """Sample and push every ``settings.telemetry_interval_s`` (see the module's docstring)."""

    name = "telemetry-pusher"

    def __init__(self, settings: Settings, read_state: Callable[[], StateReport],
                 rng: random.Random | None = None) -> None:
        super().__init__(settings.telemetry_interval_s)
        self.settings = settings
        self.read_state = read_state
        self.url = settings.ground_url.rstrip("/") + "/api/telemetry"
        self.rng = rng or random.Random()
        self.simulation = Simulation()
        self._lock: Any = None  # the open lock file; False: pushing without one

    def holds_lock(self) -> bool:
        """Whether this process is the one that pushes (it keeps the lock until it exits)."""
        if self._lock is None:
            path = Path(self.settings.var_dir) / LOCK_FILE
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                handle = open(path, "a")
            except OSError as error:  # a read-only var/: push from every process rather than none
                log.warning("cannot open %s (%s); this process pushes without the lock", path,
                            error.strerror)
                self._lock = False
                return True
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                handle.close()
                return False
            self._lock = handle
        return True

    def run_once(self) -> int:
        """One sample pushed; how many points ground accepted (0 when the push failed)."""
        if not self.holds_lock():
            return 0
        now = utcnow()
        state = self.read_state()
        self.simulation.step(state, now, self.rng)
        token = telemetry_token(self.settings)
        if token is None:
            log.warning("telemetry not pushed: no token (set TELEMETRY_TOKEN, or run mc-migrate "
                        "to generate var/telemetry-token); trying again in %ss", self.period_s)
            return 0
        return self.push(points_of(state, self.simulation, now), token)

    def push(self, points: list[dict[str, Any]], token: str) -> int:
        request = urllib.request.Request(
            self.url, data=json.dumps({"points": points}).encode(), method="POST",
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
        try:
            with urllib.request.urlopen(request, timeout=PUSH_TIMEOUT_S) as response:
                return json.load(response).get("accepted", 0)
        except urllib.error.HTTPError as error:
            log.warning("telemetry push to %s refused: HTTP %d; trying again in %ss", self.url,
                        error.code, self.period_s)
        except (OSError, ValueError) as error:  # unreachable, timed out, not JSON
            log.warning("telemetry push to %s failed: %s; trying again in %ss", self.url,
                        error.__class__.__name__, self.period_s)
        return 0

    def stopped(self) -> None:
        if self._lock:
            self._lock.close()  # releases the lock for another worker
        self._lock = None
