"""The command-sender loop: schedule, claim, transmit, follow up, each step crash-safe.

Every step is driven by the row alone (status, due_at, lease), never by memory: a worker
that dies mid-command leaves a lease that expires, and whoever claims the row next redoes
the step. Redoing is harmless because every status change is a conditional update (the
second attempt changes nothing) and targets execute a command id at most once.

Two kinds of thread share the work. The loop thread does all the database writing, one
transaction per pass: it records what the step threads found out (acknowledgements,
outcomes, retries), draws transmit times for new commands, claims due ones under a lease and
moves the claimed READY ones to TRANSMITTED. Step threads only talk HTTP to targets. Batching
the writes this way costs one commit per pass instead of one per transition.

Order of writes when transmitting: READY -> TRANSMITTED is committed *before* the HTTP
request. That is what gives a cancel racing a transmission exactly one winner: once the
worker has won the row it may send; if the operator won, the worker never sends. A crash
between the commit and the request is covered by the lease: the next owner (re)sends.
"""

from __future__ import annotations

import logging
import os
import queue
import random
import socket
import threading
import time
import uuid
from collections import defaultdict
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from mission_control import heartbeat, lifecycle
from mission_control.db import Database
from mission_control.status import Status
from mission_control.settings import Settings
from mission_control.timeutil import utcnow

from . import claims
from .claims import Claimed
from .uplink import PermanentError, TransientError, Uplink
from .wakeup import Wakeup

log = logging.getLogger("command_sender")

MIN_POLL_S = 0.05    # a target that keeps saying "not yet" is asked at most this often
MAX_BACKOFF_S = 30.0


def new_worker_id() -> str:
    return f"command-sender@{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass(frozen=True)
class Outcome:
    """What a step found out: a status change, or (``target`` None) when to try again."""

    command: Claimed
    target: Status | None
    reason: str | None = None
    due_at: datetime | None = None
    attempts: int = 0


class Worker:
    def __init__(self, settings: Settings, database: Database | None = None,
                 worker_id: str | None = None, rng: random.Random | None = None) -> None:
        self.settings = settings
        self.database = database or Database(settings.database_url, **_pool_for(settings))
        self.worker_id = worker_id or new_worker_id()
        self.rng = rng or random.Random()
        self.uplink = Uplink(settings, pool_size=settings.worker_threads * 2)
        self.stop_requested = threading.Event()
        self.wakeup = Wakeup(self.database, self.stop_requested)
        self._pool = ThreadPoolExecutor(settings.worker_threads, thread_name_prefix="step")
        self._outcomes: queue.SimpleQueue[Outcome] = queue.SimpleQueue()
        self._in_flight: set[Future] = set()
        self._lock = threading.Lock()
        self._kinds: dict[str, str] = {}
        self._capacity = settings.worker_threads * 4  # claimed steps queued or running
        self._closed = False
        self._next_beat = 0.0  # monotonic time of the next heartbeat

    # -- the loop ---------------------------------------------------------------------------

    def run(self) -> None:
        """Work until stop() is called (SIGTERM); finish the steps under way, release leases."""
        log.info("worker %s started (batch %d, %d threads)", self.worker_id,
                 self.settings.worker_batch_size, self.settings.worker_threads)
        self.wakeup.start()
        try:
            while not self.stop_requested.is_set():
                busy, next_due = self.run_once()
                if not busy:
                    self.wakeup.wait(self._idle_timeout(next_due))
        finally:
            self.close()

    def run_once(self) -> tuple[bool, datetime | None]:
        """One pass in one transaction: record outcomes, draw transmit times, claim, transmit.

        Returns whether the pass claimed all it had room for (more may be waiting) and the
        next time anything falls due.
        """
        outcomes = self._drain()
        room = self._room()
        beat_due = time.monotonic() >= self._next_beat
        try:
            with self.database.transaction() as session:
                if beat_due:
                    heartbeat.beat(session, self.worker_id)
                moved = self._record(session, outcomes)
                claims.schedule_new(session, self.settings.max_transmit_delay_s,
                                    self.settings.worker_batch_size, self.rng)
                claimed = claims.claim_due(session, self.worker_id, room,
                                           self.settings.lease_s) if room else []
                ready = {c.id: None for c in claimed if c.status is Status.READY}
                transmitted = lifecycle.transition_many(
                    session, Status.READY, Status.TRANSMITTED, ready, actor=self.worker_id,
                    values={cid: {"attempts": 0} for cid in ready})
                next_due = claims.next_due(session)
        except Exception:
            # Nothing was written: the leases of these commands expire and their steps are
            # redone by whoever claims them next.
            log.exception("worker %s: database pass failed; retrying", self.worker_id)
            self.stop_requested.wait(min(self.settings.poll_interval_s, 5))
            return False, None
        if beat_due:
            self._next_beat = time.monotonic() + heartbeat.BEAT_EVERY_S
        for source, target, reason, command_id in moved:
            _log_transition(command_id, source, target, reason)
        for command in claimed:
            if command.status is Status.READY:
                if command.id not in transmitted:
                    continue
                _log_transition(command.id, Status.READY, Status.TRANSMITTED, None)
                command = replace(command, status=Status.TRANSMITTED, attempts=0)
            future = self._pool.submit(self.step, command)
            with self._lock:
                self._in_flight.add(future)
            future.add_done_callback(self._done)
        return bool(room) and len(claimed) == room, next_due

    def stop(self) -> None:
        self.stop_requested.set()
        self.wakeup.poke()

    def close(self) -> None:
        """Finish the steps under way, drop queued ones, record outcomes, release leases."""
        if self._closed:
            return
        self._closed = True
        self._pool.shutdown(wait=True, cancel_futures=True)
        self.wakeup.stop()
        try:
            with self.database.transaction() as session:
                moved = self._record(session, self._drain())
                released = claims.release_all(session, self.worker_id)
                heartbeat.beat(session, self.worker_id, stopped=True)
            for source, target, reason, command_id in moved:
                _log_transition(command_id, source, target, reason)
            log.info("worker %s stopped; released %d leases", self.worker_id, released)
        except Exception:
            log.exception("worker %s: could not release leases; they will expire", self.worker_id)
        self.uplink.close()

    def _drain(self) -> list[Outcome]:
        outcomes = []
        while True:
            try:
                outcomes.append(self._outcomes.get_nowait())
            except queue.Empty:
                return outcomes

    def _record(self, session, outcomes: list[Outcome]) -> list[tuple]:
        """Write the step threads' findings; return the transitions made, for the log."""
        groups: dict[tuple[Status, Status], list[Outcome]] = defaultdict(list)
        later = []
        for outcome in outcomes:
            if outcome.target is None:
                later.append((outcome.command, outcome.due_at, outcome.attempts))
            else:
                groups[(outcome.command.status, outcome.target)].append(outcome)
        claims.reschedule(session, self.worker_id, later)
        moved = []
        for (source, target), group in groups.items():
            reasons = {o.command.id: o.reason for o in group}
            values = {o.command.id: {"attempts": 0, "due_at": o.due_at,
                                     "lease_owner": None, "lease_expires_at": None}
                      for o in group if o.due_at is not None}
            won = lifecycle.transition_many(session, source, target, reasons,
                                            actor=self.worker_id, values=values)
            moved.extend((source, target, reasons[cid], cid) for cid in won)
        return moved

    def _room(self) -> int:
        with self._lock:
            busy = len(self._in_flight)
        return max(0, min(self.settings.worker_batch_size, self._capacity - busy))

    def _done(self, future: Future) -> None:
        with self._lock:
            self._in_flight.discard(future)
        self.wakeup.poke()

    def _idle_timeout(self, next_due: datetime | None) -> float:
        if not self._outcomes.empty():
            return 0.0
        if self._room() == 0:
            # Every slot is busy: due rows must wait for one, and a finishing step pokes us.
            # Waiting for next_due (already past) would spin on the database meanwhile.
            return self.settings.poll_interval_s
        if next_due is None:
            return self.settings.poll_interval_s
        return max(0.0, min(self.settings.poll_interval_s, (next_due - utcnow()).total_seconds()))

    # -- one step of one command (HTTP only; the loop writes the outcome) -------------------

    def step(self, command: Claimed) -> None:
        """Advance one claimed command by one step, according to its status."""
        try:
            if command.status is Status.TRANSMITTED:
                outcome = self._send(command)
            elif command.status is Status.ACKNOWLEDGED:
                outcome = self._follow_up(command)
            else:
                return
        except Exception:
            # The lease will expire and the step be retried by whoever claims the row.
            log.exception("command %s: step failed in state %s", command.id, command.status)
            return
        self._outcomes.put(outcome)

    def _send(self, command: Claimed) -> Outcome:
        payload = {"id": str(command.id), "command_name": command.command_name,
                   "args": command.args, "module_id": command.module_id}
        try:
            self.uplink.send(self._kind(command.target_id), payload)
        except TransientError as error:
            return self._retry_or_fail(command, f"no acknowledgement: {error}")
        except PermanentError as error:
            return Outcome(command, Status.FAILED, str(error))
        return Outcome(command, Status.ACKNOWLEDGED, due_at=self._stage_due())

    def _follow_up(self, command: Claimed) -> Outcome:
        try:
            report = self.uplink.report(self._kind(command.target_id), str(command.id))
        except TransientError as error:
            return self._retry_or_fail(command, f"lost contact: {error}")
        except PermanentError as error:
            return Outcome(command, Status.FAILED, str(error))
        if report.state in (Status.EXECUTED.value, Status.FAILED.value):
            return Outcome(command, Status(report.state), report.detail)
        return Outcome(command, None, due_at=self._stage_due())

    def _retry_or_fail(self, command: Claimed, reason: str) -> Outcome:
        """Back off exponentially; after max_send_attempts give up with the reason."""
        attempts = command.attempts + 1
        if attempts >= self.settings.max_send_attempts:
            return Outcome(command, Status.FAILED, f"{reason} (gave up after {attempts} attempts)")
        delay = min(MAX_BACKOFF_S, self.settings.retry_backoff_s * 2 ** (attempts - 1))
        delay *= self.rng.uniform(0.5, 1.0)
        log.warning("command %s: %s; attempt %d of %d, next in %.2fs", command.id, reason,
                    attempts, self.settings.max_send_attempts, delay)
        return Outcome(command, None, due_at=utcnow() + timedelta(seconds=delay),
                       attempts=attempts)

    def _stage_due(self) -> datetime:
        delay = max(MIN_POLL_S, self.rng.uniform(0, self.settings.max_stage_delay_s))
        return utcnow() + timedelta(seconds=delay)

    def _kind(self, target_id: str) -> str:
        kind = self._kinds.get(target_id)
        if kind is None:
            with self.database.transaction() as session:
                self._kinds = claims.target_kinds(session)
            kind = self._kinds.get(target_id)
            if kind is None:
                raise PermanentError(f"unknown target {target_id!r}")
        return kind


def _log_transition(command_id, source: Status, target: Status, reason: str | None) -> None:
    log.info("command %s %s -> %s%s", command_id, source, target, f" ({reason})" if reason else "")


def _pool_for(settings: Settings) -> dict:
    if settings.database_url.startswith("sqlite"):
        return {}
    return {"pool_size": settings.worker_threads + 2, "max_overflow": 4}
