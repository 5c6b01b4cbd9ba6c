"""The worker's steps: what a step thread does with a batch of claimed commands, over HTTP only.

Commands are grouped per uplink (the service that carries their target's protocol) and step,
into batches of at most UPLINK_BATCH_MAX: TRANSMITTED ones are sent (POST /commands),
ACKNOWLEDGED ones are asked about (POST /commands/query). Every command of a batch gets an
Outcome, whatever happens; the worker's loop writes the outcomes in its next pass.
"""

from __future__ import annotations

import json
import logging
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from mission_control.catalog import verifier_of
from mission_control.settings import Settings
from mission_control.status import Status
from mission_control.timeutil import utcnow

from .claims import Claimed
from .monitoring import uplink_errors
from .tracing import fields, uplink_request_id
from .uplink import KeyRefused, PermanentError, TargetReport, TransientError, Uplink

log = logging.getLogger("command_sender")

MIN_POLL_S = 0.05    # a target that keeps saying "not yet" is asked at most this often
MAX_BACKOFF_S = 30.0


@dataclass(frozen=True)
class Outcome:
    """What a step found out: a new status, or (``to_status`` None) when to try again."""

    command: Claimed
    to_status: Status | None
    reason: str | None = None
    next_step_at: datetime | None = None
    attempts: int = 0
    key_refused: bool = False  # the target answered 401: the worker logs it once per pass
    verify: bool = False  # the target executed it; its verifier decides (verification.py)


@dataclass(frozen=True)
class Batch:
    """Commands with one uplink and one step: all to be sent, or all to be asked about."""

    base_url: str
    status: Status   # TRANSMITTED: send them; ACKNOWLEDGED: ask how far they got
    commands: list[Claimed]


class Steps:
    """Turns claimed commands into batches and batches into outcomes; thread-safe."""

    def __init__(self, settings: Settings, uplink: Uplink, rng: random.Random) -> None:
        self.settings = settings
        self.uplink = uplink
        self.rng = rng

    def batches(self, commands: list[Claimed]) -> tuple[list[Batch], list[Outcome]]:
        """The commands in batches, and the outcomes of those no uplink serves."""
        groups: dict[tuple[str, Status], list[Claimed]] = defaultdict(list)
        unroutable = []
        for command in commands:
            base_url = self.uplink.base_url(command.target_kind)
            if base_url is None:
                unroutable.append(Outcome(
                    command, Status.FAILED,
                    f"no uplink for target {command.target_id!r} (kind {command.target_kind!r})"))
            else:
                groups[(base_url, command.status)].append(command)
        uplink_errors("unroutable", len(unroutable))
        batches = []
        for (base_url, status), group in groups.items():
            batches.extend(Batch(base_url, status, chunk) for chunk in self.chunks(group))
        return batches, unroutable

    def chunks(self, commands: list[Claimed]) -> list[list[Claimed]]:
        """At most uplink_batch_max commands, and a body well under the target's limit."""
        budget = self.settings.uplink_max_body_bytes // 2
        chunks: list[list[Claimed]] = [[]]
        size = 0
        for command in commands:
            length = len(json.dumps(command.args)) + 200
            if chunks[-1] and (len(chunks[-1]) >= self.settings.uplink_batch_max
                               or size + length > budget):
                chunks.append([])
                size = 0
            chunks[-1].append(command)
            size += length
        return [chunk for chunk in chunks if chunk]

    def run(self, batch: Batch) -> list[Outcome]:
        """Send or ask about one batch."""
        if batch.status is Status.TRANSMITTED:
            return self._send(batch)
        return self._ask(batch)

    def _send(self, batch: Batch) -> list[Outcome]:
        count = len(batch.commands)
        try:
            answers = self.uplink.send(batch.base_url, [c.uplink_body() for c in batch.commands],
                                       uplink_request_id("POST /commands", batch.commands))
        except KeyRefused:
            uplink_errors("key_refused", count)
            return [self.wait_for_key(c) for c in batch.commands]
        except TransientError as error:
            uplink_errors("transient", count)
            return [self.retry_or_fail(c, f"no acknowledgement: {error}") for c in batch.commands]
        except PermanentError as error:
            uplink_errors("permanent", count)
            return [Outcome(c, Status.FAILED, str(error)) for c in batch.commands]
        uplink_errors("permanent", sum(answer is not None for answer in answers.values()))
        return [Outcome(c, Status.ACKNOWLEDGED, next_step_at=self._stage_due())
                if answers[str(c.id)] is None else Outcome(c, Status.FAILED, answers[str(c.id)])
                for c in batch.commands]

    def _ask(self, batch: Batch) -> list[Outcome]:
        count = len(batch.commands)
        try:
            reports = self.uplink.query(batch.base_url, [str(c.id) for c in batch.commands],
                                        uplink_request_id("POST /commands/query",
                                                          batch.commands))
        except KeyRefused:
            uplink_errors("key_refused", count)
            return [self.wait_for_key(c) for c in batch.commands]
        except TransientError as error:
            uplink_errors("transient", count)
            return [self.retry_or_fail(c, f"lost contact: {error}") for c in batch.commands]
        except PermanentError as error:
            uplink_errors("permanent", count)
            return [Outcome(c, Status.FAILED, str(error)) for c in batch.commands]
        return [self._after_report(c, reports[str(c.id)]) for c in batch.commands]

    def _after_report(self, command: Claimed, report: TargetReport | None) -> Outcome:
        if report is None:
            return Outcome(command, Status.FAILED, "the target has no record of the command")
        if report.state == Status.EXECUTED.value and verifier_of(command.command_name):
            return Outcome(command, None, next_step_at=utcnow(), verify=True)
        if report.state in (Status.EXECUTED.value, Status.FAILED.value):
            return Outcome(command, Status(report.state), report.detail)
        return Outcome(command, None, next_step_at=self._stage_due())

    def retry_or_fail(self, command: Claimed, reason: str) -> Outcome:
        """Back off exponentially; after max_send_attempts give up with the reason."""
        attempts = command.attempts + 1
        if attempts >= self.settings.max_send_attempts:
            return Outcome(command, Status.FAILED, f"{reason} (gave up after {attempts} attempts)")
        delay = min(MAX_BACKOFF_S, self.settings.retry_backoff_s * 2 ** (attempts - 1))
        delay *= self.rng.uniform(0.5, 1.0)
        log.warning("command %s: %s; attempt %d of %d, next in %.2fs", command.id, reason,
                    attempts, self.settings.max_send_attempts, delay, extra=fields(command))
        return Outcome(command, None, next_step_at=utcnow() + timedelta(seconds=delay),
                       attempts=attempts)

    def wait_for_key(self, command: Claimed) -> Outcome:
        """The target refused our key: the same step again after the longest retry backoff,
        the attempt not counted. A wrong key is the operator's to fix, not the command's
        fault, so it never fails a command (the worker logs the refusal once per pass)."""
        delay = min(MAX_BACKOFF_S,
                    self.settings.retry_backoff_s * 2 ** (self.settings.max_send_attempts - 1))
        delay = max(MIN_POLL_S, delay * self.rng.uniform(0.5, 1.0))
        return Outcome(command, None, next_step_at=utcnow() + timedelta(seconds=delay),
                       attempts=command.attempts, key_refused=True)

    def _stage_due(self) -> datetime:
        delay = max(MIN_POLL_S, self.rng.uniform(0, self.settings.max_stage_delay_s))
        return utcnow() + timedelta(seconds=delay)
