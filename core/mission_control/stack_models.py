"""Tables of command stacks (docs/stacks.md): an ordered list of commands for one target,
each sent once the previous one reached its chosen stage.

A step's telecommand is created, and its id written on the step, in one transaction: the
step's ``state`` moves PENDING -> SENT in the same conditional UPDATE that the creating
transaction wins, so a step is never created twice, and the primary key (stack_id, position)
keeps one row per step. The stack's own statuses and which may follow which are here too.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON, Boolean, CheckConstraint, Float, ForeignKey, Index, Integer, String, Text, Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base
from .timeutil import UTCDateTime, utcnow

RUNNING, COMPLETED, FAILED, CANCELLED = "RUNNING", "COMPLETED", "FAILED", "CANCELLED"
STACK_STATUSES = (RUNNING, COMPLETED, FAILED, CANCELLED)
STACK_FINAL = frozenset({COMPLETED, FAILED, CANCELLED})  # only RUNNING ever changes
ON_FAILURE = ("stop", "continue")
WAIT_FOR = ("ACKNOWLEDGED", "EXECUTED")
# A step's own state: PENDING (its telecommand not created yet), SENT (created: the step's
# status is its telecommand's), SKIPPED (never created: the stack stopped or was cancelled).
PENDING, SENT, SKIPPED = "PENDING", "SENT", "SKIPPED"
STEP_STATES = (PENDING, SENT, SKIPPED)


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Stack(Base):
    __tablename__ = "stacks"
    __table_args__ = (Index("ix_stacks_status_created", "status", "created_at"),
                      Index("ix_stacks_created", "created_at"),
                      CheckConstraint(_one_of("status", STACK_STATUSES), name="ck_stacks_status"),
                      CheckConstraint(_one_of("on_failure", ON_FAILURE),
                                      name="ck_stacks_on_failure"))

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    target_id: Mapped[str] = mapped_column(ForeignKey("targets.id"))
    name: Mapped[str | None] = mapped_column(String(200), default=None)
    status: Mapped[str] = mapped_column(String(16), default=RUNNING)
    status_reason: Mapped[str | None] = mapped_column(Text, default=None)
    on_failure: Mapped[str] = mapped_column(String(16), default="stop")
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class StackStep(Base):
    __tablename__ = "stack_steps"
    __table_args__ = (CheckConstraint(_one_of("wait_for", WAIT_FOR), name="ck_stack_steps_wait"),
                      CheckConstraint(_one_of("state", STEP_STATES),
                                      name="ck_stack_steps_state"),
                      CheckConstraint("position >= 1", name="ck_stack_steps_position"))

    stack_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("stacks.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)  # 1, 2, ...
    command_name: Mapped[str] = mapped_column(String(64))
    module_id: Mapped[str | None] = mapped_column(String(64), default=None)
    args: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # validated, normalised
    confirm: Mapped[bool] = mapped_column(Boolean, default=False)
    wait_for: Mapped[str] = mapped_column(String(16))
    delay_s: Mapped[float] = mapped_column(Float, default=0.0)
    telecommand_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("telecommands.id"), unique=True, default=None)
    state: Mapped[str] = mapped_column(String(16), default=PENDING)
