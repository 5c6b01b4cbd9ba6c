"""Bodies and answers of the contact-window API (GET/PUT /api/targets/{id}/passes)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from mission_control.passes import MAX_PASSES
from mission_control.validation import Timestamp


class PassIn(BaseModel):
    """One contact window, [start_at, end_at) in UTC."""

    model_config = ConfigDict(extra="forbid")

    start_at: Timestamp
    end_at: Timestamp = Field(description="after start_at")


class PassList(BaseModel):
    """Body of PUT /api/targets/{id}/passes: the target's whole list (replaces the old one)."""

    model_config = ConfigDict(extra="forbid")

    passes: list[PassIn] = Field(max_length=MAX_PASSES,
                                 description="non-overlapping; an empty list removes every pass "
                                             "(commands go at any time again)")


class PassOut(BaseModel):
    start_at: str = Field(description="UTC, ISO 8601")
    end_at: str = Field(description="UTC, ISO 8601")


class PassesOut(BaseModel):
    target: str
    passes: list[PassOut] = Field(description="earliest first, past ones included")
    next_pass: PassOut | None = Field(description="the pass under way or the next to come")
