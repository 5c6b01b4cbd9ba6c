"""The spacecraft's executor: runs received commands when their time comes, on its own clock.

A pass is one transaction: claim up to a batch of due RECEIVED commands with a conditional
UPDATE (on PostgreSQL the sub-select takes them FOR UPDATE SKIP LOCKED, so executors in other
processes claim other rows instead of waiting), lock the state row once, apply the commands in
execute_at order, write every outcome and the state. A crash anywhere before the commit rolls
the claim back to RECEIVED: a command is never run twice nor stranded in EXECUTING.

Locks are taken in one order, command rows then the state row, and a receipt locks only
command rows, so executors and receipts cannot deadlock.
"""

from __future__ import annotations

import atexit
import heapq
import logging
import random
import threading
import weakref
from collections import defaultdict
from datetime import datetime
from typing import Iterable

from sqlalchemy import select, update

from mission_control.db import Database
from mission_control.models import SpacecraftState, UplinkedCommand
from mission_control.timeutil import utcnow

from .effects import STATE_FIELDS, apply

log = logging.getLogger(__name__)

RECEIVED, EXECUTING, EXECUTED, FAILED = "RECEIVED", "EXECUTING", "EXECUTED", "FAILED"
STATE_ROW_ID = 1
SIMULATED_FAILURE = "simulated execution failure"
# A thread started on demand (outside gunicorn) ends after this long with nothing to do;
# the next receipt starts it again.
IDLE_EXIT_S = 2.0
RETRY_S = 1.0  # after a failed pass; a pass fails as a whole, so nothing is lost meanwhile

_commands = UplinkedCommand.__table__
_state = SpacecraftState.__table__
_executors: weakref.WeakSet[Executor] = weakref.WeakSet()


class Executor:
    """Executes due commands of one database; one per process, safe beside others anywhere.

    ``run_once()`` is one pass (tests drive it directly). ``start()`` runs passes in a thread
    until ``stop()``: after a pass it sleeps until the sooner of ``poll_s`` and the next
    execute_at this process knows of, and ``notify()`` (called on every receipt) wakes it.
    With ``on_demand`` a receipt starts the thread, which ends again when idle.
    """

    def __init__(self, database: Database, *, execution_failure_rate: float, poll_s: float,
                 batch_size: int, on_demand: bool = False,
                 rng: random.Random | None = None) -> None:
        self.database = database
        self.execution_failure_rate = execution_failure_rate
        self.poll_s = poll_s
        self.batch_size = batch_size
        self.on_demand = on_demand
        self.rng = rng or random.Random()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._due: list[datetime] = []  # execute_at of commands this process received
        self._thread: threading.Thread | None = None
        self._permanent = False
        _executors.add(self)

    def run_once(self) -> int:
        """Execute up to ``batch_size`` due commands in one transaction; return how many ran."""
        with self.database.begin() as connection:
            claimed = connection.execute(self._claim(utcnow())).all()
            if not claimed:
                return 0
            claimed.sort(key=lambda row: (row.execute_at, row.id))
            # SQLite has no FOR UPDATE: there the transaction's BEGIN IMMEDIATE holds the lock.
            row = connection.execute(
                select(*(_state.c[name] for name in STATE_FIELDS))
                .where(_state.c.id == STATE_ROW_ID).with_for_update()).one()
            before = row._asdict()
            state = dict(before)
            outcomes: dict[str | None, list[str]] = defaultdict(list)
            for command in claimed:
                detail = self._run(command.command_name, command.args or {}, state)
                outcomes[detail].append(command.id)
            finished_at = utcnow()
            for detail, ids in outcomes.items():
                connection.execute(
                    update(_commands)
                    .where(_commands.c.id.in_(ids), _commands.c.state == EXECUTING)
                    .values(state=FAILED if detail else EXECUTED, detail=detail,
                            executions=_commands.c.executions + 1, finished_at=finished_at))
            changed = {name: value for name, value in state.items() if before[name] != value}
            if changed:
                connection.execute(update(_state).where(_state.c.id == STATE_ROW_ID)
                                   .values(**changed, updated_at=finished_at))
        self._log_pass(claimed, outcomes)
        return len(claimed)

    def run_until_idle(self) -> int:
        """Run passes until one finds nothing due; return how many commands ran in all."""
        total = 0
        while ran := self.run_once():
            total += ran
        return total

    def _claim(self, now: datetime):
        due = (select(_commands.c.id)
               .where(_commands.c.state == RECEIVED, _commands.c.execute_at <= now)
               .order_by(_commands.c.execute_at, _commands.c.id)
               .limit(self.batch_size)
               .with_for_update(skip_locked=True))
        return (update(_commands)
                .where(_commands.c.id.in_(due), _commands.c.state == RECEIVED)
                .values(state=EXECUTING)
                .returning(_commands.c.id, _commands.c.command_name, _commands.c.args,
                           _commands.c.execute_at))

    def _run(self, command_name: str, args: dict, state: dict) -> str | None:
        """Apply one command to ``state``; return why it failed, or None."""
        if self.rng.random() < self.execution_failure_rate:
            return SIMULATED_FAILURE
        return apply(command_name, args, state)

    @staticmethod
    def _log_pass(claimed, outcomes: dict[str | None, list[str]]) -> None:
        failed = sum(len(ids) for detail, ids in outcomes.items() if detail)
        log.info("executed %d commands: %d EXECUTED, %d FAILED", len(claimed),
                 len(claimed) - failed, failed)
        if not log.isEnabledFor(logging.DEBUG):
            return
        for detail, ids in outcomes.items():
            for command_id in ids:
                log.debug("command %s %s%s", command_id, "FAILED: " if detail else "EXECUTED",
                          detail or "")

    def notify(self, due_times: Iterable[datetime]) -> None:
        """This process received commands due at ``due_times``: wake the thread to run them
        when their time comes (and start it, on demand)."""
        with self._lock:
            for due_at in due_times:
                heapq.heappush(self._due, due_at)
            if self._thread is None and self.on_demand and not self._stopping.is_set():
                self._start_thread()
        self._wake.set()

    def start(self) -> None:
        """Run passes in a daemon thread until ``stop()`` (under gunicorn: one per worker)."""
        with self._lock:
            self._permanent = True
            self._stopping.clear()
            if self._thread is None:
                self._start_thread()

    def stop(self, timeout: float = 10) -> None:
        """Let the current pass finish, then end the thread."""
        self._stopping.set()
        self._wake.set()
        with self._lock:
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    @property
    def running(self) -> bool:
        with self._lock:
            return self._thread is not None

    def _start_thread(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="spacecraft-executor",
                                        daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        log.info("executor started (poll every %ss)", self.poll_s)
        idle_since = utcnow()
        while not self._stopping.is_set():
            started = utcnow()
            try:
                ran = self.run_once()
            except Exception:  # the database went away, say: log, wait, try again
                log.exception("executor pass failed; retrying in %ss", RETRY_S)
                self._stopping.wait(RETRY_S)
                continue
            if ran >= self.batch_size:
                continue  # more may be due already
            if ran:
                idle_since = utcnow()
            with self._lock:
                while self._due and self._due[0] <= started:
                    heapq.heappop(self._due)  # due at the pass: it ran, here or elsewhere
                next_due = self._due[0] if self._due else None
                if (not self._permanent and next_due is None
                        and (utcnow() - idle_since).total_seconds() >= IDLE_EXIT_S):
                    self._thread = None
                    log.info("executor idle; stopped until the next receipt")
                    return
            self._wake.wait(self._sleep(next_due))
            self._wake.clear()
        with self._lock:
            if self._thread is threading.current_thread():
                self._thread = None
        log.info("executor stopped")

    def _sleep(self, next_due: datetime | None) -> float:
        if next_due is None:
            return self.poll_s
        return max(0.0, min(self.poll_s, (next_due - utcnow()).total_seconds()))


def stop_all() -> None:
    """Stop every executor of this process (at interpreter exit, and between tests)."""
    for executor in list(_executors):
        executor.stop()


atexit.register(stop_all)
