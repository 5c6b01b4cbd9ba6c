"""Limits: which yellow and red bounds apply to a source's parameter, and where a value stands.

A limit row names a source id (a target id: "spacecraft", a robot's UUID), ``kind:<kind>``
(every source of that target kind: ``kind:robot``, ``kind:spacecraft``) or ``*`` (every
source). The most specific row wins: the source's own, then its kind's, then ``*``, then
the built-in ``DEFAULTS`` (per kind, used while no row names the parameter). A row with every
bound null switches a parameter's limits off. Nothing here knows HTTP.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from .alert_models import Limit
from .models import Target

ANY_SOURCE = "*"
KIND_PREFIX = "kind:"
State = Literal["ok", "yellow", "red"]
BOUNDS = ("yellow_low", "yellow_high", "red_low", "red_high")
Key = tuple[str, str]  # (source, parameter)


@dataclass(frozen=True)
class Bounds:
    """The limits that apply to one parameter: bounds (None: no bound) and persistence."""

    source: str  # the row's source: an id, kind:<kind>, * or "default"
    parameter: str
    yellow_low: float | None = None
    yellow_high: float | None = None
    red_low: float | None = None
    red_high: float | None = None
    persistence: int = 1

    def to_json(self) -> dict[str, Any]:
        return {"source": self.source, "parameter": self.parameter,
                **{name: getattr(self, name) for name in BOUNDS},
                "persistence": self.persistence}


# Built-in limits per target kind (battery in per cent, temperature in degrees C, cpu in per
# cent). CPU wanders in normal work, so it counts as crossed after 3 samples in a row.
DEFAULTS: dict[str, dict[str, Bounds]] = {
    "spacecraft": {
        "temperature": Bounds("default", "temperature", yellow_low=-10.0, yellow_high=45.0,
                              red_low=-20.0, red_high=60.0),
        "battery": Bounds("default", "battery", yellow_low=30.0, red_low=15.0),
    },
    "robot": {
        "battery": Bounds("default", "battery", yellow_low=20.0, red_low=10.0),
        "temperature": Bounds("default", "temperature", yellow_high=60.0, red_high=70.0),
        "cpu": Bounds("default", "cpu", yellow_high=85.0, red_high=95.0, persistence=3),
    },
}


def crossed(bounds: Bounds, value: float) -> tuple[State, str | None, float | None]:
    """Where ``value`` stands: the state and the limit it crossed (its name and value), red
    before yellow. NaN is outside every limit (a sensor reporting nonsense is red)."""
    if math.isnan(value):
        name = next((n for n in ("red_high", "red_low", "yellow_high", "yellow_low")
                     if getattr(bounds, n) is not None), None)
        if name is None:
            return "ok", None, None
        return ("red" if name.startswith("red") else "yellow"), name, getattr(bounds, name)
    for colour in ("red", "yellow"):
        low, high = getattr(bounds, f"{colour}_low"), getattr(bounds, f"{colour}_high")
        if low is not None and value < low:
            return colour, f"{colour}_low", low
        if high is not None and value > high:
            return colour, f"{colour}_high", high
    return "ok", None, None


def state_of(bounds: Bounds | None, value: float) -> State:
    """"ok", "yellow" or "red" for ``value`` under ``bounds`` (a Bounds or a Limit row; None:
    no limits, ok)."""
    return crossed(bounds, value)[0] if bounds is not None else "ok"


def _bounds(row: Limit) -> Bounds:
    return Bounds(row.source, row.parameter, row.yellow_low, row.yellow_high, row.red_low,
                  row.red_high, row.persistence)


def kinds(session: Session, sources: Iterable[str]) -> dict[str, str]:
    """The target kind of each source that is a target (one query)."""
    sources = list(set(sources))
    if not sources:
        return {}
    return dict(session.execute(select(Target.id, Target.kind).where(Target.id.in_(sources))).all())


def effective(session: Session, keys: Iterable[Key]) -> dict[Key, Bounds]:
    """The limits that apply to each (source, parameter): two queries for any number of keys
    (the sources' kinds, then every row that could apply). Keys without limits are left out."""
    keys = set(keys)
    if not keys:
        return {}
    kind_of = kinds(session, {source for source, _ in keys})
    names = {source for source, _ in keys} | {KIND_PREFIX + k for k in kind_of.values()} \
        | {ANY_SOURCE}
    rows = {(row.source, row.parameter): _bounds(row) for row in session.scalars(
        select(Limit).where(Limit.parameter.in_({p for _, p in keys}), Limit.source.in_(names)))}
    found: dict[Key, Bounds] = {}
    for source, parameter in keys:
        kind = kind_of.get(source)
        candidates = [rows.get((source, parameter)),
                      rows.get((KIND_PREFIX + kind, parameter)) if kind else None,
                      rows.get((ANY_SOURCE, parameter)),
                      DEFAULTS.get(kind or "", {}).get(parameter)]
        bounds = next((b for b in candidates if b is not None), None)
        if bounds is not None and any(getattr(bounds, n) is not None for n in BOUNDS):
            found[(source, parameter)] = bounds
    return found


def limit_state(session: Session, source: str, parameter: str, value: float) -> State:
    """Where ``value`` of ``source``'s ``parameter`` stands against its limits (for the
    latest-values view; use ``effective`` and ``state_of`` for many at once)."""
    return state_of(effective(session, [(source, parameter)]).get((source, parameter)), value)


def stored(session: Session) -> list[Bounds]:
    """Every limit row, by source then parameter."""
    return [_bounds(row) for row in session.scalars(
        select(Limit).order_by(Limit.source, Limit.parameter))]


def defaults() -> list[dict[str, Any]]:
    """The built-in limits, with the kind of source they apply to."""
    return [{**bounds.to_json(), "source": KIND_PREFIX + kind}
            for kind, by_parameter in DEFAULTS.items() for bounds in by_parameter.values()]


def problems(bounds: dict[str, float | None]) -> list[tuple[str, str]]:
    """What is inconsistent in a limit's bounds: [(field, message)]. Lows at most highs, and
    the yellow band inside the red one."""
    found = []
    pairs = [("yellow_low", "yellow_high"), ("red_low", "red_high"), ("red_low", "yellow_low"),
             ("yellow_high", "red_high"), ("red_low", "yellow_high"), ("yellow_low", "red_high")]
    for lower, upper in pairs:
        low, high = bounds.get(lower), bounds.get(upper)
        if low is not None and high is not None and low > high:
            found.append((upper, f"must be at least {lower} ({low})"))
    return found


def save(session: Session, items: list[dict[str, Any]], *, by: str, now: datetime) -> None:
    """Write limit rows (each replaces the row of its source and parameter)."""
    existing = {(row.source, row.parameter): row for row in session.scalars(
        select(Limit).where(Limit.source.in_({i["source"] for i in items}),
                            Limit.parameter.in_({i["parameter"] for i in items})))}
    for item in items:
        row = existing.get((item["source"], item["parameter"]))
        if row is None:
            row = Limit(source=item["source"], parameter=item["parameter"])
            session.add(row)
            existing[(row.source, row.parameter)] = row
        for name in BOUNDS:
            setattr(row, name, item.get(name))
        row.persistence = item.get("persistence", 1)
        row.updated_at, row.updated_by = now, by
