"""Verification from telemetry: a catalog entry may name a telemetry condition that must be seen
on the command's target within a window after ACKNOWLEDGED (docs/lifecycle.md, "Verification
from telemetry").

A ``Verifier`` is plain data (the catalog holds one per command that has one); ``check`` reads
the telemetry store in the caller's transaction and says what it found. The command-sender's
loop calls it and makes the status change (command_sender/verification.py); nothing here
changes a status.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from .telemetry_models import TelemetryPoint
from .timeutil import isoformat

COMPARISONS: dict[str, Callable[[Any, Any], Any]] = {
    "==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
    ">": operator.gt, ">=": operator.ge,
}
# A point sampled inside the window reaches the store a moment later (a push, a heartbeat
# flush): the answer "not seen" waits this long after the window closes.
INGEST_GRACE_S = 1.0


@dataclass(frozen=True)
class Verifier:
    """``parameter comparison value`` on the target's telemetry, seen within ``within_s`` of
    ACKNOWLEDGED. The value is a constant, or (``value_from``) the command's argument of that
    name; booleans count as 1 and 0, as telemetry stores them."""

    parameter: str
    comparison: str
    value: float | None = None
    value_from: str | None = None
    within_s: float = 10.0

    def __post_init__(self) -> None:
        if self.comparison not in COMPARISONS:
            raise ValueError(f"unknown comparison {self.comparison!r}")
        if (self.value is None) == (self.value_from is None):
            raise ValueError("a verifier needs either a value or value_from, not both")

    def expected(self, args: dict[str, Any]) -> float:
        """The value the condition compares with, for a command with these arguments."""
        raw = self.value if self.value_from is None else args.get(self.value_from)
        return float(raw)  # booleans: 1.0 and 0.0

    def condition(self, args: dict[str, Any]) -> str:
        """The condition as text, e.g. ``heater == 1``."""
        return f"{self.parameter} {self.comparison} {_number(self.expected(args))}"

    def describe(self) -> dict[str, Any]:
        """The catalog's view (no command yet: ``value_from`` names the argument)."""
        return {"parameter": self.parameter, "comparison": self.comparison,
                "value": self.value, "value_from": self.value_from, "within_s": self.within_s}


@dataclass(frozen=True)
class Finding:
    """What ``check`` saw: ``verified`` True (a point satisfies the condition), False (the
    window passed without one) or None (not yet: look again by ``decide_by``, when the window
    and its grace have passed). ``value`` and ``at``: the satisfying point, or the last one
    seen before the window closed."""

    verified: bool | None
    value: float | None
    at: datetime | None
    reason: str | None
    decide_by: datetime


def check(session: Session, verifier: Verifier, *, source: str, args: dict[str, Any],
          acknowledged_at: datetime, now: datetime) -> Finding:
    """Look for a point of ``source``'s parameter in [acknowledged_at, acknowledged_at +
    within_s] that satisfies the condition; past the window (and INGEST_GRACE_S) without one,
    the answer is no."""
    deadline = acknowledged_at + timedelta(seconds=verifier.within_s)
    decide_by = deadline + timedelta(seconds=INGEST_GRACE_S)
    expected = verifier.expected(args)
    c = TelemetryPoint.__table__.c
    series = (c.source == source, c.parameter == verifier.parameter)
    hit = session.execute(
        select(c.value, c.time)
        .where(*series, c.time >= acknowledged_at, c.time <= deadline,
               COMPARISONS[verifier.comparison](c.value, expected))
        .order_by(c.time).limit(1)).first()
    if hit is not None:
        return Finding(True, hit.value, hit.time,
                       f"verified: {verifier.parameter}={hit.value} at {isoformat(hit.time)}",
                       decide_by)
    if now < decide_by:
        return Finding(None, None, None, None, decide_by)
    last = session.execute(select(c.value, c.time).where(*series, c.time <= deadline)
                           .order_by(c.time.desc()).limit(1)).first()
    seen = f"last value {last.value}" if last is not None else "no value seen"
    return Finding(False, last.value if last else None, last.time if last else None,
                   f"not verified: {verifier.condition(args)} not seen within "
                   f"{_number(verifier.within_s)} s ({seen})", decide_by)


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)
