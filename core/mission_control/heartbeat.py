"""Worker heartbeats: the one place that says how often a command-sender beats and when
one that stopped beating counts as lost (killed, or cut off from the database)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from .models import Worker
from .timeutil import isoformat, utcnow

BEAT_EVERY_S = 2.0


def stale_after_s(poll_interval_s: float) -> float:
    """A worker beats on its first pass after BEAT_EVERY_S; it may sleep a poll interval first."""
    return 3 * max(BEAT_EVERY_S, poll_interval_s) + 1


def beat(session: Session, worker_id: str, *, stopped: bool = False) -> None:
    now = utcnow()
    values: dict[str, Any] = {"heartbeat_at": now, "stopped_at": now if stopped else None}
    if session.execute(update(Worker).where(Worker.id == worker_id).values(**values)
                       .execution_options(synchronize_session=False)).rowcount == 0:
        session.execute(insert(Worker).values(id=worker_id, started_at=now, **values))


def worker_states(session: Session, poll_interval_s: float, limit: int = 50) -> list[dict[str, Any]]:
    """The most recently seen workers: running, stopped (cleanly) or lost (no beat lately)."""
    now = utcnow()
    stale = now - timedelta(seconds=stale_after_s(poll_interval_s))
    rows = session.scalars(select(Worker).order_by(Worker.heartbeat_at.desc()).limit(limit))
    return [{"id": w.id, "state": _state(w, stale), "started_at": isoformat(w.started_at),
             "heartbeat_at": isoformat(w.heartbeat_at), "stopped_at": isoformat(w.stopped_at)}
            for w in rows]


def _state(worker: Worker, stale: datetime) -> str:
    if worker.stopped_at is not None:
        return "stopped"
    return "running" if worker.heartbeat_at >= stale else "lost"
