"""Telecommand statuses and which may follow which: the rule every other module imports.

Plain data, no database: ``lifecycle`` applies these rules to rows, ``models`` uses the
status strings, and neither needs the other to know them.
"""

from __future__ import annotations

import enum


class Status(enum.StrEnum):
    # Two-person approval (docs/approval.md): created so, it waits for a second user.
    AWAITING_APPROVAL = "AWAITING_APPROVAL"
    READY = "READY"
    TRANSMITTED = "TRANSMITTED"
    ACKNOWLEDGED = "ACKNOWLEDGED"
    EXECUTED = "EXECUTED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


ALLOWED: dict[Status, frozenset[Status]] = {
    Status.AWAITING_APPROVAL: frozenset({Status.READY, Status.CANCELLED}),
    # READY -> FAILED: a time-tagged command whose expires_at passed before it could go
    # (docs/lifecycle.md, "Time tags and contact windows").
    Status.READY: frozenset({Status.TRANSMITTED, Status.CANCELLED, Status.FAILED}),
    Status.TRANSMITTED: frozenset({Status.ACKNOWLEDGED, Status.FAILED}),
    Status.ACKNOWLEDGED: frozenset({Status.EXECUTED, Status.FAILED}),
    Status.EXECUTED: frozenset(),
    Status.FAILED: frozenset(),
    Status.CANCELLED: frozenset(),
}

# The statuses a command may be created in (AWAITING_APPROVAL: it needs a second user).
INITIAL: frozenset[Status] = frozenset({Status.AWAITING_APPROVAL, Status.READY})
FINAL: frozenset[Status] = frozenset(s for s, nxt in ALLOWED.items() if not nxt)
ACTIVE: frozenset[Status] = frozenset(Status) - FINAL
# Not transmitted yet, so a user may still cancel it (AWAITING_APPROVAL, READY).
CANCELLABLE: tuple[Status, ...] = tuple(s for s in Status if Status.CANCELLED in ALLOWED[s])


class IllegalTransition(ValueError):
    """A caller asked for a change the lifecycle never allows (a programming error)."""

    def __init__(self, from_status: Status | None, to_status: Status) -> None:
        super().__init__(f"{from_status} -> {to_status} is not an allowed transition")
        self.from_status = from_status
        self.to_status = to_status


def can_transition(from_status: Status | str, to_status: Status | str) -> bool:
    return Status(to_status) in ALLOWED[Status(from_status)]
