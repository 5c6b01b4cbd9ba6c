"""Limits applied to incoming telemetry: ``evaluate(session, points)`` in the ingest
transaction (docs/alerts.md).

A sample beyond a yellow limit counts towards yellow, one beyond a red limit towards red (and
yellow); a limit with persistence N counts as crossed after N consecutive samples beyond it,
and one sample back inside the limits resets the counts and clears the alert. Counts of limits
with a persistence above 1 carry over between batches in ``limit_counts``.

A batch costs a fixed number of queries however many points it holds: the limits that apply
(limits.effective: two), the active alerts of its parameters (one), the counts (one, when a
persistence above 1 applies), then one statement for each alert that opens, worsens or clears
and one for the counts. Points of one source and parameter are taken in time order.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any, Iterable

from sqlalchemy import select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from . import alerts, limits
from .alert_models import LimitCount, SEVERITIES
from .limits import Bounds, Key
from .timeutil import utcnow

SEVERITY_OF = {"yellow": "warning", "red": "critical"}
_COLOURS = ("yellow", "red")


def _field(point: Any, name: str) -> Any:
    return point.get(name) if isinstance(point, dict) else getattr(point, name, None)


def _samples(points: Iterable[Any], now: datetime) -> dict[Key, list[tuple[datetime, float]]]:
    # Called on every stored batch (robot-server: every heartbeat flush, thousands of points
    # a second), so dicts, the common case, are read directly.
    by_key: dict[Key, list[tuple[datetime, float]]] = defaultdict(list)
    for point in points:
        if type(point) is dict:
            source, parameter, at, value = (point.get("source"), point.get("parameter"),
                                            point.get("time"), point.get("value"))
        else:
            source, parameter, at, value = (_field(point, "source"), _field(point, "parameter"),
                                            _field(point, "time"), _field(point, "value"))
        by_key[(str(source), str(parameter))].append(
            (at if isinstance(at, datetime) else now, float(value)))
    for samples in by_key.values():
        if len(samples) > 1:
            samples.sort(key=_time_of)
    return by_key


def _time_of(sample: tuple[datetime, float]) -> datetime:
    return sample[0]


def _counts(session: Session, keys: list[Key]) -> dict[Key, tuple[int, int]]:
    if not keys:
        return {}
    table = LimitCount.__table__
    rows = session.execute(select(table.c.source, table.c.parameter, table.c.beyond_yellow,
                                  table.c.beyond_red)
                           .where(tuple_(table.c.source, table.c.parameter).in_(keys)))
    return {(r.source, r.parameter): (r.beyond_yellow, r.beyond_red) for r in rows}


def _save_counts(session: Session, counts: dict[Key, tuple[int, int]], now: datetime) -> None:
    if not counts:
        return
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(LimitCount.__table__)
    statement = statement.on_conflict_do_update(
        index_elements=["source", "parameter"],
        set_={"beyond_yellow": statement.excluded.beyond_yellow,
              "beyond_red": statement.excluded.beyond_red,
              "updated_at": statement.excluded.updated_at})
    session.execute(statement, [{"source": s, "parameter": p, "beyond_yellow": y,
                                 "beyond_red": r, "updated_at": now}
                                for (s, p), (y, r) in counts.items()])


def _message(key: Key, value: float, limit: str, limit_value: float | None,
             persistence: int) -> str:
    side = "below" if limit.endswith("_low") else "above"
    text = f"{key[0]} {key[1]} {value:g} is {side} its {limit} limit {limit_value:g}"
    return text + (f" for {persistence} samples in a row" if persistence > 1 else "")


class _Track:
    """One source's parameter through a batch: the counts, the worst crossing reached, and
    whether the last sample was back inside the limits."""

    def __init__(self, bounds: Bounds, counts: tuple[int, int]) -> None:
        self.bounds = bounds
        self.yellow, self.red = counts
        self.worst: tuple[str, float, str, float | None, datetime] | None = None
        self.inside = False
        self.inside_at: datetime | None = None

    def add(self, at: datetime, value: float) -> None:
        colour, limit, limit_value = limits.crossed(self.bounds, value)
        if colour == "ok":
            self.yellow = self.red = 0
            self.inside, self.inside_at = True, at
            return
        self.inside = False
        self.yellow += 1
        self.red = self.red + 1 if colour == "red" else 0
        needed = self.bounds.persistence
        reached = "red" if self.red >= needed else "yellow" if self.yellow >= needed else None
        if reached is None:
            return
        if reached != colour:  # red for too few samples yet: the yellow limit of that side
            yellow_limit = limit.replace("red", "yellow")
            if getattr(self.bounds, yellow_limit) is not None:
                limit, limit_value = yellow_limit, getattr(self.bounds, yellow_limit)
        if self.worst is None or _COLOURS.index(reached) > _COLOURS.index(self.worst[0]):
            self.worst = (reached, value, limit, limit_value, at)


def evaluate(session: Session, points: Iterable[Any]) -> None:
    """Apply the limits to a batch of telemetry points (objects or dicts with ``source``,
    ``parameter``, ``value`` and ``time``), in the caller's transaction: open, worsen and
    clear alerts, and carry the persistence counts over."""
    now = utcnow()
    samples = _samples(points, now)
    applying = limits.effective(session, samples)
    if not applying:
        return
    persistent = [key for key, bounds in applying.items() if bounds.persistence > 1]
    stored = _counts(session, persistent)
    current = alerts.active(session, applying)
    raises, clears, counts = [], [], {}
    # Keys in one order in every transaction: two replicas writing the same alerts and counts
    # wait for each other instead of deadlocking.
    for key, bounds in sorted(applying.items()):
        track = _Track(bounds, stored.get(key, (0, 0)))
        for at, value in samples[key]:
            track.add(at, value)
        if bounds.persistence > 1 and stored.get(key, (0, 0)) != (track.yellow, track.red):
            counts[key] = (track.yellow, track.red)
        alert = current.get(key)
        raised = False
        if track.worst is not None:
            colour, value, limit, limit_value, at = track.worst
            severity = SEVERITY_OF[colour]
            if alert is None or alert.cleared or \
                    SEVERITIES.index(severity) > SEVERITIES.index(alert.severity):
                raised = True
                raises.append(alerts.Raise(
                    key[0], key[1], "limit", severity,
                    _message(key, value, limit, limit_value, bounds.persistence), at,
                    value, limit, limit_value))
        if track.inside and (raised or (alert is not None and not alert.cleared)):
            clears.append((*key, track.inside_at or now))
    _save_counts(session, counts, now)
    alerts.raise_alerts(session, raises)
    alerts.clear(session, clears)
