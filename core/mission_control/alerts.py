"""Alerts as rows: raising, clearing, acknowledging, resolving and shelving (docs/alerts.md).

States follow ISA-18.2. An alert opens ``open`` (unacknowledged). ``cleared`` records that its
condition has gone (back inside the limits, the robot back online): a cleared alert that
nobody acknowledged stays listed as open, so a short excursion is not missed. Acknowledging a
cleared alert, or clearing an acknowledged one, resolves it (by the acknowledger, or by
``system``); an operator may also resolve an alert at any time. A worse severity raises the
same alert (and makes an acknowledged one open again); the condition coming back on a cleared
alert makes it uncleared. A shelved alert is hidden from the open list until ``shelved_until``;
shelving makes it unacknowledged, so if it is still active when the shelf expires it is open
again, and if it clears while shelved it is resolved.

Every change is one conditional statement: the partial unique index ``ux_alerts_active``
decides which of two concurrent raises inserts (the other updates), and acknowledge and
resolve are ``UPDATE ... WHERE state = ...``, so a race has one winner. Nothing here knows HTTP.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Iterable

from sqlalchemy import and_, bindparam, case, func, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from .alert_models import ACTIVE, Alert, SEVERITIES
from .timeutil import isoformat, utcnow

SYSTEM = "system"  # who resolves an alert that cleared after its acknowledgement
CONNECTION = "connection"  # the parameter of offline alerts
_TABLE = Alert.__table__


@dataclass(frozen=True)
class Raise:
    """A condition that opens (or worsens) the alert of ``source`` and ``parameter``."""

    source: str
    parameter: str
    kind: str
    severity: str
    message: str
    at: datetime
    value: float | None = None
    limit_crossed: str | None = None
    limit_value: float | None = None


class AlertNotFound(LookupError):
    pass


def _ranked(column):
    """A severity as a number: info 0, warning 1, critical 2 (for comparing and ordering)."""
    return case({name: index for index, name in enumerate(SEVERITIES)}, value=column, else_=0)


def _upsert(session: Session):
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(_TABLE)


def raise_alerts(session: Session, raises: Iterable[Raise]) -> None:
    """Open an alert for each condition, or, where one is active for its source and parameter,
    make it uncleared and raise its severity to the new one's when that is worse (an
    escalation also makes an acknowledged alert open again). One statement per condition,
    decided by the database: concurrent raises of one condition leave one alert."""
    rows = [{"source": r.source, "parameter": r.parameter, "kind": r.kind,
             "severity": r.severity, "state": "open", "value": r.value,
             "limit_crossed": r.limit_crossed, "limit_value": r.limit_value,
             "message": r.message, "opened_at": r.at, "updated_at": r.at, "cleared": False}
            for r in raises]
    if not rows:
        return
    statement = _upsert(session)
    new = statement.excluded
    escalates = _ranked(new.severity) > _ranked(_TABLE.c.severity)
    refreshes = or_(_ranked(new.severity) >= _ranked(_TABLE.c.severity), _TABLE.c.cleared)
    statement = statement.on_conflict_do_update(
        index_elements=["source", "parameter"], index_where=text(ACTIVE),
        set_={
            "severity": case((escalates, new.severity), else_=_TABLE.c.severity),
            "state": case((escalates, "open"), else_=_TABLE.c.state),
            "acknowledged_by": case((escalates, None), else_=_TABLE.c.acknowledged_by),
            "acknowledged_at": case((escalates, None), else_=_TABLE.c.acknowledged_at),
            "ack_comment": case((escalates, None), else_=_TABLE.c.ack_comment),
            **{name: case((refreshes, getattr(new, name)), else_=getattr(_TABLE.c, name))
               for name in ("value", "limit_crossed", "limit_value", "message")},
            "cleared": False, "cleared_at": None, "updated_at": new.updated_at})
    session.execute(statement, rows)


def clear(session: Session, items: Iterable[tuple[str, str, datetime]]) -> int:
    """The conditions of these (source, parameter, since when) have gone: their active alerts
    are marked cleared, and resolved (by ``system``) when acknowledged or shelved. One
    statement; how many alerts changed."""
    rows = [{"c_source": s, "c_parameter": p, "c_at": at} for s, p, at in items]
    if not rows:
        return 0
    at = bindparam("c_at", type_=_TABLE.c.cleared_at.type)
    done_by_system = or_(_TABLE.c.state == "acknowledged", _TABLE.c.shelved_until > at)
    statement = (update(_TABLE)
                 .where(_TABLE.c.source == bindparam("c_source"),
                        _TABLE.c.parameter == bindparam("c_parameter"),
                        _TABLE.c.state != "resolved", _TABLE.c.cleared.is_(False))
                 .values(cleared=True, cleared_at=at, updated_at=at,
                         state=case((done_by_system, "resolved"), else_=_TABLE.c.state),
                         resolved_by=case((done_by_system, SYSTEM), else_=None),
                         resolved_at=case((done_by_system, at), else_=None)))
    return session.connection().execute(statement, rows).rowcount or 0


def active(session: Session, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Alert]:
    """The active alert of each (source, parameter) that has one (one query)."""
    keys = set(keys)
    if not keys:
        return {}
    found = session.scalars(select(Alert).where(
        Alert.source.in_({s for s, _ in keys}), Alert.parameter.in_({p for _, p in keys}),
        Alert.state != "resolved"))
    return {(a.source, a.parameter): a for a in found if (a.source, a.parameter) in keys}


# -- robots and telecommands -------------------------------------------------------------------

def robots_offline(session: Session, robot_ids: Iterable[uuid.UUID], how: str,
                   at: datetime | None = None) -> None:
    """Robots went offline (``how``: disconnect or timeout): a warning each."""
    at = at or utcnow()
    reasons = {"disconnect": "its session was closed",
               "timeout": "no heartbeat within HEARTBEAT_TIMEOUT_S"}
    raise_alerts(session, [Raise(str(robot_id), CONNECTION, "offline", "warning",
                                 f"robot {robot_id} went offline: {reasons.get(how, how)}", at)
                           for robot_id in robot_ids])


def robots_online(session: Session, robot_ids: Iterable[uuid.UUID],
                  at: datetime | None = None) -> None:
    """Robots came back online: their offline alerts are cleared."""
    at = at or utcnow()
    clear(session, [(str(robot_id), CONNECTION, at) for robot_id in robot_ids])


def command_failed_rows(failed: Iterable[tuple[uuid.UUID, str, str, str | None]],
                        at: datetime) -> list[dict[str, Any]]:
    """The info alerts of telecommands that ended FAILED: (id, target, command name,
    reason) each, as rows for one INSERT in the transaction of the transition."""
    return [{"source": target, "parameter": None, "kind": "command", "severity": "info",
             "state": "open", "message": f"telecommand {name} {command_id} FAILED"
                                         + (f": {reason}" if reason else ""),
             "command_id": command_id, "opened_at": at, "updated_at": at, "cleared": False}
            for command_id, target, name, reason in failed]


# -- operators ----------------------------------------------------------------------------------

def acknowledge(session: Session, alert_id: int, *, by: str, comment: str | None) -> Alert:
    """Acknowledge an open alert (resolving it if already cleared); an alert that is no longer
    open is left as it is (acknowledging twice is harmless). AlertNotFound when none."""
    now = utcnow()
    session.execute(update(_TABLE).where(_TABLE.c.id == alert_id, _TABLE.c.state == "open")
                    .values(state=case((_TABLE.c.cleared, "resolved"), else_="acknowledged"),
                            acknowledged_by=by, acknowledged_at=now, ack_comment=comment,
                            resolved_by=case((_TABLE.c.cleared, by), else_=None),
                            resolved_at=case((_TABLE.c.cleared, now), else_=None),
                            updated_at=now))
    return get(session, alert_id)


def resolve(session: Session, alert_id: int, *, by: str) -> Alert:
    """Resolve an alert whatever its state; resolving twice is harmless."""
    now = utcnow()
    session.execute(update(_TABLE).where(_TABLE.c.id == alert_id, _TABLE.c.state != "resolved")
                    .values(state="resolved", resolved_by=by, resolved_at=now, updated_at=now))
    return get(session, alert_id)


class NotShelvable(Exception):
    pass


def shelve(session: Session, alert_id: int, *, duration_s: float, by: str) -> Alert:
    """Hide an active alert from the open list for ``duration_s``; it is unacknowledged from
    now on, so it comes back open when the shelf expires if it is still active. NotShelvable
    for a resolved alert."""
    now = utcnow()
    changed = session.execute(
        update(_TABLE).where(_TABLE.c.id == alert_id, _TABLE.c.state != "resolved")
        .values(shelved_until=now + timedelta(seconds=duration_s), shelved_by=by, state="open",
                acknowledged_by=None, acknowledged_at=None, ack_comment=None,
                updated_at=now)).rowcount
    alert = get(session, alert_id)
    if not changed:
        raise NotShelvable(f"alert {alert_id} is resolved")
    return alert


def get(session: Session, alert_id: int) -> Alert:
    alert = session.get(Alert, alert_id, populate_existing=True)
    if alert is None:
        raise AlertNotFound(alert_id)
    return alert


def _shelved(now: datetime):
    return and_(Alert.shelved_until.is_not(None), Alert.shelved_until > now)


def page(session: Session, *, state: str | None, severity: str | None, limit: int,
         offset: int, worst_first: bool = False) -> tuple[list[Alert], int]:
    """Alerts newest first (``worst_first``: critical ones first, then warnings, then info,
    each newest first). ``state`` open leaves out shelved ones; ``shelved`` lists those."""
    now = utcnow()
    conditions = []
    if state == "shelved":
        conditions += [Alert.state != "resolved", _shelved(now)]
    elif state is not None:
        conditions.append(Alert.state == state)
        if state == "open":
            conditions.append(~_shelved(now))
    if severity is not None:
        conditions.append(Alert.severity == severity)
    total = session.scalar(select(func.count()).select_from(Alert).where(*conditions)) or 0
    order = [_ranked(Alert.severity).desc()] if worst_first else []
    items = session.scalars(select(Alert).where(*conditions)
                            .order_by(*order, Alert.opened_at.desc(), Alert.id.desc())
                            .limit(limit).offset(offset)).all()
    return list(items), total


def alerts_raised(session: Session, day_start: datetime, day_end: datetime) -> list[dict]:
    """The alerts opened from ``day_start`` (included) to ``day_end`` (excluded), for the
    daily report: as the API answers them (``to_json``), critical first, then warning, then
    info, each in the order they opened. One that worsened counts once, at its severity now."""
    found = session.scalars(select(Alert).where(Alert.opened_at >= day_start,
                                                Alert.opened_at < day_end)
                            .order_by(_ranked(Alert.severity).desc(), Alert.opened_at,
                                      Alert.id))
    return [to_json(alert) for alert in found]


def open_counts(session: Session | Connection) -> dict[str, int]:
    """Open (unacknowledged, not shelved) alerts by severity: one GROUP BY over the (state,
    opened_at) index, for /metrics at every scrape and the page's badge."""
    return dict(session.execute(
        select(Alert.severity, func.count()).where(Alert.state == "open", ~_shelved(utcnow()))
        .group_by(Alert.severity)).all())


def is_shelved(alert: Alert, now: datetime) -> bool:
    """Whether an alert is shelved (hidden from the open list) at ``now``."""
    return bool(alert.shelved_until and alert.shelved_until > now and alert.state != "resolved")


def to_json(alert: Alert) -> dict[str, Any]:
    """An alert as the API answers it (schemas AlertOut)."""
    return {
        "id": alert.id, "source": alert.source, "parameter": alert.parameter,
        "kind": alert.kind, "severity": alert.severity, "state": alert.state,
        "value": alert.value, "limit_crossed": alert.limit_crossed,
        "limit_value": alert.limit_value, "message": alert.message,
        "command_id": str(alert.command_id) if alert.command_id else None,
        "opened_at": isoformat(alert.opened_at), "updated_at": isoformat(alert.updated_at),
        "cleared": alert.cleared, "cleared_at": isoformat(alert.cleared_at),
        "shelved": is_shelved(alert, utcnow()),
        "shelved_until": isoformat(alert.shelved_until), "shelved_by": alert.shelved_by,
        "acknowledged_by": alert.acknowledged_by,
        "acknowledged_at": isoformat(alert.acknowledged_at), "comment": alert.ack_comment,
        "resolved_by": alert.resolved_by, "resolved_at": isoformat(alert.resolved_at),
    }

