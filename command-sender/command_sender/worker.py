"""The command-sender: schedule -> claim -> step -> record, over and over.

One loop thread writes the database, one transaction per pass; step threads only talk HTTP.

  sweep     READY commands past their expires_at end FAILED "expired"; (once a second)
            commands AWAITING_APPROVAL longer than APPROVAL_TIMEOUT_S end CANCELLED
            "approval expired"; stacks whose current step reached its stage send the next
            (``sweeps``).
  schedule  READY commands without a transmit time get one, now + uniform(0,
            MAX_TRANSMIT_DELAY_S), or their not_before when later. They stay READY, and
            cancellable, until then. A claimed one due outside its target's contact windows
            is moved to the next window instead of being transmitted (``timing``).
  claim     commands whose next step is due (``next_step_at`` has come and nobody holds
            them), or whose holder's lease ran out, are leased to this worker. Claimed READY
            commands move to TRANSMITTED in the same transaction, committed before anything is
            sent: a cancel racing the transmission has exactly one winner, and a crash after
            the commit is covered by the lease (the next owner sends again).
  step      the claimed commands, grouped per uplink into batches: TRANSMITTED ones are sent
            (POST /commands), ACKNOWLEDGED ones are asked about (POST /commands/query).
            Each command's finding becomes an Outcome.
  record    the next pass writes the outcomes: ACKNOWLEDGED (ask again at next_step_at),
            EXECUTED or FAILED as the target reports, or the same status again later (not
            done yet, or a retry with backoff). The lease is released either way.
  verify    a command with a verifier that its target executed is not EXECUTED yet: the
            loop itself checks the telemetry store for it (``verification``), no step thread.

Nothing lives only in memory: a worker that dies leaves leases that expire, and whoever
claims the rows redoes the steps. Redoing is harmless: status changes are conditional updates
(the second one changes nothing) and targets execute a command id at most once. What a row's
columns mean at each stage is tabled in ``claims``; the steps are in ``steps``.
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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime

from mission_control import heartbeat, lifecycle
from mission_control.db import Database
from mission_control.settings import Settings
from mission_control.status import Status
from mission_control.timeutil import utcnow

from . import claims, monitoring, sweeps, timing, verification
from .claims import RELEASED, Claimed
from .stats import Stats
from .steps import Batch, Outcome, Steps
from .tracing import log_transition
from .uplink import Uplink
from .wakeup import Wakeup

log = logging.getLogger("command_sender")

TAKE_OVER_EVERY_S = 1.0  # how often to look for expired leases (a lease lasts LEASE_S)


def new_worker_id() -> str:
    return f"command-sender@{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Worker:
    def __init__(self, settings: Settings, database: Database | None = None,
                 worker_id: str | None = None, rng: random.Random | None = None) -> None:
        self.settings = settings
        self.database = database or Database(settings.database_url, **_pool_for(settings))
        self.worker_id = worker_id or new_worker_id()
        self.rng = rng or random.Random()
        self.uplink = Uplink(settings, pool_size=settings.worker_threads)
        self.steps = Steps(settings, self.uplink, self.rng)
        self.stop_requested = threading.Event()
        self.wakeup = Wakeup(self.database, self.stop_requested)
        self.stats = Stats()
        self._pool = ThreadPoolExecutor(settings.worker_threads, thread_name_prefix="step")
        self._outcomes: queue.SimpleQueue[Outcome] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._in_flight = 0  # commands claimed whose outcome is not recorded yet
        self._capacity = 2 * settings.worker_batch_size
        self._closed = False
        self._next_beat = 0.0  # monotonic time of the next heartbeat
        self._next_take_over = 0.0  # monotonic time of the next look for expired leases
        self.last_pass_ok: float | None = None  # monotonic time of the last good pass (/health)

    # -- the loop ---------------------------------------------------------------------------

    def run(self) -> None:
        """Work until stop() is called (SIGTERM); finish the steps under way, release leases."""
        log.info("worker %s started (claims of %d, uplink batches of %d, %d step threads)",
                 self.worker_id, self.settings.worker_batch_size,
                 self.settings.uplink_batch_max, self.settings.worker_threads)
        self.wakeup.start()
        try:
            while not self.stop_requested.is_set():
                busy, next_wakeup = self.run_once()
                if not busy:
                    started = time.perf_counter()
                    self.wakeup.wait(self._idle_timeout(next_wakeup))
                    self.stats.add("idle_s", time.perf_counter() - started)
                self.stats.maybe_log(log, self.worker_id)
        finally:
            self.close()

    def run_once(self) -> tuple[bool, datetime | None]:
        """One pass in one transaction: record, schedule, claim, move claimed READY ones on.

        Returns whether more work may be waiting right now, and the next time anything
        falls due.
        """
        started = time.perf_counter()
        outcomes = self._drain()
        room = self._room()
        beat_due = time.monotonic() >= self._next_beat
        take_over = time.monotonic() >= self._next_take_over
        try:
            with self.database.transaction() as session:
                if beat_due:
                    heartbeat.beat(session, self.worker_id)
                moved = self._record(session, outcomes)
                swept = sweeps.sweep(session, self.worker_id, self.settings, take_over)
                claims.schedule_new(session, self.settings.max_transmit_delay_s,
                                    self.settings.worker_batch_size, self.rng)
                claimed = claims.claim_due(session, self.worker_id, room, self.settings.lease_s,
                                           take_over=take_over) if room else []
                ready_claimed = [c for c in claimed if c.status is Status.READY]
                held = timing.hold_for_passes(session, self.worker_id, ready_claimed,
                                              utcnow()) if ready_claimed else set()
                ready = {c.id: None for c in ready_claimed if c.id not in held}
                transmitted = lifecycle.transition_many(
                    session, Status.READY, Status.TRANSMITTED, ready, actor=self.worker_id,
                    common={"attempts": 0})
                verifying = [c for c in claimed if c.verifying_since is not None]
                moved += verification.verify(session, self.worker_id, verifying,
                                             self.settings.poll_interval_s)
                next_wakeup = claims.next_wakeup(session)
        except Exception:
            # Nothing was written: the leases of these commands expire and their steps are
            # redone by whoever claims them next.
            log.exception("worker %s: database pass failed; retrying", self.worker_id)
            self.stop_requested.wait(min(self.settings.poll_interval_s, 5))
            return False, None
        self.last_pass_ok = time.monotonic()
        monitoring.picked_up(claimed, transmitted, utcnow())
        if beat_due:
            self._next_beat = time.monotonic() + heartbeat.BEAT_EVERY_S
        if take_over and room:
            self._next_take_over = time.monotonic() + TAKE_OVER_EVERY_S
        self.stats.add("passes", 1)
        self.stats.add("db_s", time.perf_counter() - started)
        self.stats.add("claimed", len(claimed))
        for from_status, to_status, reason, command in moved:
            log_transition(command, from_status, to_status, reason, self.worker_id)
        for line in swept:
            log.info("%s", line)
        steps = []
        for command in claimed:
            if command.verifying_since is not None:
                continue  # verified in the pass itself
            if command.status is Status.READY:
                if command.id not in transmitted:
                    # cancelled meanwhile (the lease went with the status change), or held
                    # for its target's next contact window (timing.hold_for_passes)
                    continue
                log_transition(command, Status.READY, Status.TRANSMITTED, None, self.worker_id)
                command = replace(command, status=Status.TRANSMITTED, attempts=0)
            steps.append(command)
        self._start(steps)
        return bool(room) and len(claimed) == room or not self._outcomes.empty(), next_wakeup

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
            for from_status, to_status, reason, command in moved:
                log_transition(command, from_status, to_status, reason, self.worker_id)
            log.info("worker %s stopped; released %d leases; totals: %s", self.worker_id,
                     released, self.stats.totals())
        except Exception:
            log.exception("worker %s: could not release leases; they will expire", self.worker_id)
        self.uplink.close()

    def _drain(self) -> list[Outcome]:
        outcomes = []
        while True:
            try:
                outcomes.append(self._outcomes.get_nowait())
            except queue.Empty:
                break
        if outcomes:
            with self._lock:
                self._in_flight -= len(outcomes)
        return outcomes

    def _record(self, session, outcomes: list[Outcome]) -> list[tuple]:
        """Write the step threads' findings; return the transitions made, for the log."""
        groups: dict[tuple[Status, Status], list[Outcome]] = defaultdict(list)
        later, verifying = [], []
        refused = [o for o in outcomes if o.key_refused]
        if refused:
            log.error("uplink refused the key: check UPLINK_KEY (the same in the command-sender "
                      "and its targets); %d commands wait and are retried", len(refused))
        for outcome in outcomes:
            if outcome.verify:
                verifying.append(outcome.command)
            elif outcome.to_status is None:
                later.append((outcome.command, outcome.next_step_at, outcome.attempts))
            else:
                groups[(outcome.command.status, outcome.to_status)].append(outcome)
        claims.reschedule(session, self.worker_id, later)
        verification.start(session, self.worker_id, verifying)
        moved = []
        for (from_status, to_status), group in groups.items():
            reasons = {o.command.id: o.reason for o in group}
            commands = {o.command.id: o.command for o in group}
            values = {o.command.id: {"next_step_at": o.next_step_at}
                      for o in group if o.next_step_at is not None}
            won = lifecycle.transition_many(session, from_status, to_status, reasons,
                                            actor=self.worker_id, values=values, common=RELEASED)
            moved.extend((from_status, to_status, reasons[cid], commands[cid]) for cid in won)
        self.stats.add("recorded", len(outcomes))
        return moved

    def _room(self) -> int:
        with self._lock:
            busy = self._in_flight
        return max(0, min(self.settings.worker_batch_size, self._capacity - busy))

    def _idle_timeout(self, next_wakeup: datetime | None) -> float:
        if not self._outcomes.empty():
            return 0.0
        if self._room() == 0 or next_wakeup is None:
            # With every slot busy, due rows wait for a slot, and a finishing step pokes us.
            return self.settings.poll_interval_s
        return max(0.0, min(self.settings.poll_interval_s,
                            (next_wakeup - utcnow()).total_seconds()))

    # -- steps: HTTP only (steps.py); the loop writes what they found out --------------------

    def _start(self, commands: list[Claimed]) -> None:
        """Hand the claimed commands to step threads, one batch per uplink and step."""
        with self._lock:
            self._in_flight += len(commands)
        batches, unroutable = self.steps.batches(commands)
        for outcome in unroutable:
            self._outcomes.put(outcome)
        for batch in batches:
            self._pool.submit(self.step, batch)

    def step(self, batch: Batch) -> None:
        """Run one batch in a step thread; every command in it gets an outcome."""
        started = time.perf_counter()
        try:
            outcomes = self.steps.run(batch)
        except Exception:  # a bug, not the target: try again after a backoff
            log.exception("worker %s: step of %d commands failed", self.worker_id,
                          len(batch.commands))
            outcomes = [self.steps.retry_or_fail(c, "the worker's step failed")
                        for c in batch.commands]
        self.stats.add("sent" if batch.status is Status.TRANSMITTED else "asked",
                       len(batch.commands))
        self.stats.add("http_s", time.perf_counter() - started)
        self.stats.add("batches", 1)
        for outcome in outcomes:
            self._outcomes.put(outcome)
        self.wakeup.poke()


def _pool_for(settings: Settings) -> dict:
    if settings.database_url.startswith("sqlite"):
        return {}
    return {"pool_size": 4, "max_overflow": 4}
