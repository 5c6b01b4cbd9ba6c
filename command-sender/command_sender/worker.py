"""The command-sender loop: schedule, claim, transmit, follow up, each step crash-safe.

Every step is driven by the row alone (status, due_at, lease), never by memory: a worker
that dies mid-command leaves a lease that expires, and whoever claims the row next redoes
the step. Redoing is harmless because every status change is a conditional update (the
second attempt changes nothing) and targets execute a command id at most once.

Order of writes when transmitting: READY -> TRANSMITTED is committed *before* the HTTP
request. That is what makes a cancel racing a transmission have one winner: once the worker
has won the row it may send; if the operator won, the worker never sends. A crash between
the commit and the request is covered by the lease: the next owner (re)sends.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import timedelta

from mission_control import lifecycle
from mission_control.db import Database
from mission_control.lifecycle import Status
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


class Worker:
    def __init__(self, settings: Settings, database: Database | None = None,
                 worker_id: str | None = None, rng: random.Random | None = None) -> None:
        self.settings = settings
        self.database = database or Database(
            settings.database_url, **_pool_for(settings))
        self.worker_id = worker_id or new_worker_id()
        self.rng = rng or random.Random()
        self.uplink = Uplink(settings, pool_size=settings.worker_threads * 2)
        self.stop_requested = threading.Event()
        self.wakeup = Wakeup(self.database, self.stop_requested)
        self._pool = ThreadPoolExecutor(settings.worker_threads, thread_name_prefix="step")
        self._in_flight: set[Future] = set()
        self._lock = threading.Lock()
        self._kinds: dict[str, str] = {}
        self._capacity = settings.worker_threads * 4  # claimed steps queued or running
        self._closed = False

    # -- the loop ---------------------------------------------------------------------------

    def run(self) -> None:
        """Work until stop() is called (SIGTERM); finish the steps under way, release leases."""
        log.info("worker %s started (batch %d, %d threads)", self.worker_id,
                 self.settings.worker_batch_size, self.settings.worker_threads)
        self.wakeup.start()
        try:
            while not self.stop_requested.is_set():
                busy = self.run_once()
                if not busy:
                    self.wakeup.wait(self._idle_timeout())
        finally:
            self.close()

    def run_once(self) -> bool:
        """One pass: draw transmit times, claim what is due, hand it to the step threads.

        Returns True when the pass claimed a full batch (more may be waiting).
        """
        try:
            with self.database.transaction() as session:
                claims.schedule_new(session, self.settings.max_transmit_delay_s,
                                    self.settings.worker_batch_size, self.rng)
            room = self._room()
            if room == 0:
                return False
            with self.database.transaction() as session:
                claimed = claims.claim_due(session, self.worker_id, room, self.settings.lease_s)
        except Exception:
            log.exception("worker %s: database pass failed; retrying", self.worker_id)
            self.stop_requested.wait(min(self.settings.poll_interval_s, 5))
            return False
        for command in claimed:
            future = self._pool.submit(self.step, command)
            with self._lock:
                self._in_flight.add(future)
            future.add_done_callback(self._done)
        return len(claimed) == room

    def stop(self) -> None:
        self.stop_requested.set()
        self.wakeup.poke()

    def _room(self) -> int:
        with self._lock:
            busy = len(self._in_flight)
        return max(0, min(self.settings.worker_batch_size, self._capacity - busy))

    def _done(self, future: Future) -> None:
        with self._lock:
            self._in_flight.discard(future)
            low = len(self._in_flight) <= self._capacity // 2
        if low:  # refill in batches, not one claim per finished step
            self.wakeup.poke()

    def _idle_timeout(self) -> float:
        try:
            with self.database.transaction() as session:
                due = claims.next_due(session)
        except Exception:
            return self.settings.poll_interval_s
        if due is None:
            return self.settings.poll_interval_s
        return max(0.0, min(self.settings.poll_interval_s, (due - utcnow()).total_seconds()))

    def close(self) -> None:
        """Finish the steps under way, drop queued ones, and release every lease held."""
        if self._closed:
            return
        self._closed = True
        self._pool.shutdown(wait=True, cancel_futures=True)
        self.wakeup.stop()
        try:
            with self.database.transaction() as session:
                released = claims.release_all(session, self.worker_id)
            log.info("worker %s stopped; released %d leases", self.worker_id, released)
        except Exception:
            log.exception("worker %s: could not release leases; they will expire", self.worker_id)
        self.uplink.close()

    # -- one step of one command ------------------------------------------------------------

    def step(self, command: Claimed) -> None:
        """Advance one claimed command by one step, according to its status."""
        try:
            if command.status is Status.READY:
                self._transmit(command)
            elif command.status is Status.TRANSMITTED:
                self._send(command)
            elif command.status is Status.ACKNOWLEDGED:
                self._follow_up(command)
        except Exception:
            # The lease will expire and the step be retried by whoever claims the row.
            log.exception("command %s: step failed in state %s", command.id, command.status)

    def _transmit(self, command: Claimed) -> None:
        with self.database.transaction() as session:
            won = self._move(session, command, Status.READY, Status.TRANSMITTED,
                             values={"attempts": 0})
        if not won:
            log.info("command %s was no longer READY; not transmitted", command.id)
            return
        self._send(Claimed(command.id, Status.TRANSMITTED, command.target_id, command.module_id,
                           command.command_name, command.args, 0))

    def _send(self, command: Claimed) -> None:
        payload = {"id": str(command.id), "command_name": command.command_name,
                   "args": command.args, "module_id": command.module_id}
        try:
            self.uplink.send(self._kind(command.target_id), payload)
        except TransientError as error:
            self._retry_or_fail(command, f"no acknowledgement: {error}")
            return
        except PermanentError as error:
            self._finish(command, Status.FAILED, str(error))
            return
        with self.database.transaction() as session:
            self._move(session, command, Status.TRANSMITTED, Status.ACKNOWLEDGED,
                       values={"attempts": 0, "due_at": self._stage_due(),
                               "lease_owner": None, "lease_expires_at": None})

    def _follow_up(self, command: Claimed) -> None:
        try:
            report = self.uplink.report(self._kind(command.target_id), str(command.id))
        except TransientError as error:
            self._retry_or_fail(command, f"lost contact: {error}")
            return
        except PermanentError as error:
            self._finish(command, Status.FAILED, str(error))
            return
        if report.state in (Status.EXECUTED.value, Status.FAILED.value):
            self._finish(command, Status(report.state), report.detail)
            return
        with self.database.transaction() as session:
            claims.reschedule(session, command, self.worker_id, due_at=self._stage_due(),
                              attempts=0)

    def _retry_or_fail(self, command: Claimed, reason: str) -> None:
        """Back off exponentially; after max_send_attempts give up with the reason."""
        attempts = command.attempts + 1
        if attempts >= self.settings.max_send_attempts:
            self._finish(command, Status.FAILED, f"{reason} (gave up after {attempts} attempts)")
            return
        delay = min(MAX_BACKOFF_S, self.settings.retry_backoff_s * 2 ** (attempts - 1))
        delay *= self.rng.uniform(0.5, 1.0)
        log.warning("command %s: %s; attempt %d of %d, next in %.2fs", command.id, reason,
                    attempts, self.settings.max_send_attempts, delay)
        with self.database.transaction() as session:
            claims.reschedule(session, command, self.worker_id,
                              due_at=utcnow() + timedelta(seconds=delay), attempts=attempts)

    def _finish(self, command: Claimed, status: Status, reason: str | None) -> None:
        with self.database.transaction() as session:
            self._move(session, command, command.status, status, reason=reason)

    def _move(self, session, command: Claimed, source: Status, target: Status, *,
              reason: str | None = None, values: dict | None = None) -> bool:
        won = lifecycle.transition(session, command.id, source, target, actor=self.worker_id,
                                   reason=reason, values=values)
        if won:
            log.info("command %s %s -> %s%s", command.id, source, target,
                     f" ({reason})" if reason else "")
        return won

    def _stage_due(self):
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


def _pool_for(settings: Settings) -> dict:
    if settings.database_url.startswith("sqlite"):
        return {}
    return {"pool_size": settings.worker_threads + 2, "max_overflow": 4}
