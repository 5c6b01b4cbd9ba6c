"""Waking the long polls of robots that wait for commands.

A poll registers in ``Waiters`` before it looks for commands, then waits on its event, so a
command stored between the look and the wait still wakes it. Who wakes it:

- this process, right after it stored commands (``Waiters.wake``);
- on PostgreSQL, the ``Listener``: one LISTEN connection per process on the channel
  ``robot_commands``, to which the transaction that stores commands sends NOTIFY with each
  robot's id, so a command POSTed to any process or replica wakes the poll wherever it waits.
  The same connection listens on ``robot_sessions_closed`` (a closed session's id), so every
  process forgets a closed session at once (sessions.py).

On SQLite there is no LISTEN: a waiting poll looks again every ``RECHECK_S`` (so do polls on
PostgreSQL while the listener is not connected).
"""

from __future__ import annotations

import logging
import select
import threading
from collections import defaultdict
from contextlib import contextmanager
from typing import Iterable, Iterator

from mission_control.db import Database

from . import sessions

log = logging.getLogger(__name__)

CHANNEL = "robot_commands"
RECHECK_S = 0.2
RECONNECT_S = 1.0


class Waiters:
    """The events of the polls waiting now, by robot id (a string); thread-safe (and
    greenlet-safe under gevent, whose monkey-patching makes these locks and events its own)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._events: dict[str, set[threading.Event]] = defaultdict(set)
        # Set when the process is told to stop: every poll answers at once (with what it
        # has) instead of holding gunicorn's graceful shutdown for its whole wait.
        self.stopped = False

    # A background task of each robot-server process (mc-serve): ``stopping`` at SIGTERM.
    def start(self) -> None:
        self.stopped = False

    def stopping(self) -> None:
        self.stopped = True
        self.wake_all()

    stop = stopping

    @contextmanager
    def waiting(self, robot_id: str) -> Iterator[threading.Event]:
        event = threading.Event()
        with self._lock:
            self._events[robot_id].add(event)
        try:
            yield event
        finally:
            with self._lock:
                events = self._events.get(robot_id)
                if events is not None:
                    events.discard(event)
                    if not events:
                        del self._events[robot_id]

    def wake(self, robot_ids: Iterable[str]) -> None:
        with self._lock:
            events = [event for robot_id in robot_ids
                      for event in self._events.get(robot_id, ())]
        for event in events:
            event.set()

    def wake_all(self) -> None:
        with self._lock:
            robot_ids = list(self._events)
        self.wake(robot_ids)

    def count(self) -> int:
        with self._lock:
            return sum(len(events) for events in self._events.values())


class Listener:
    """LISTEN robot_commands on PostgreSQL, waking the polls of each notified robot; a
    background task (start/stop) of each robot-server process. ``connected`` says whether
    notifications arrive now; while not, polls fall back to looking every RECHECK_S."""

    def __init__(self, database: Database, waiters: Waiters) -> None:
        self.database = database
        self.waiters = waiters
        self.connected = False
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._stopping.clear()
            self._thread = threading.Thread(target=self._loop, name="robot-commands-listen",
                                            daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 5) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                self._listen()
            except Exception as error:  # the database went away: polls look by themselves
                log.warning("LISTEN %s lost (%s); polls look every %ss until it is back",
                            CHANNEL, error, RECHECK_S)
            self.connected = False
            self.waiters.wake_all()
            self._stopping.wait(RECONNECT_S)

    def _listen(self) -> None:
        # A connection of its own, out of the pool for good: it holds the LISTEN.
        pooled = self.database.autocommitting.raw_connection()
        connection = pooled.dbapi_connection  # psycopg2's own
        pooled.detach()
        try:
            connection.autocommit = True
            with connection.cursor() as cursor:
                cursor.execute(f"LISTEN {CHANNEL}")
                cursor.execute(f"LISTEN {sessions.SESSIONS_CHANNEL}")
            self.connected = True
            sessions.hearing_closes(True)
            log.info("LISTEN %s: waiting polls wake on NOTIFY", CHANNEL)
            # A command may have come in while nobody listened: every poll looks once.
            self.waiters.wake_all()
            while not self._stopping.is_set():
                readable, _, _ = select.select([connection], [], [], 1.0)
                if not readable:
                    continue
                connection.poll()
                notices = list(connection.notifies)
                connection.notifies.clear()
                for notice in notices:
                    if notice.channel == sessions.SESSIONS_CHANNEL:
                        sessions.forget(int(notice.payload))
                self.waiters.wake({n.payload for n in notices if n.channel == CHANNEL})
        finally:
            sessions.hearing_closes(False)
            pooled.close()
