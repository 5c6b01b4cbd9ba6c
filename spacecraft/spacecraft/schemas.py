"""Shapes of the uplink protocol: the request the spacecraft accepts and the answers it gives.

The same models validate requests, build the answers and document the API, so the three
cannot drift apart.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

# Ids end up in URLs, logs and SQL strings: control characters (NUL above all, which
# PostgreSQL refuses in text) have no business there.
_PRINTABLE = r"^[^\x00-\x1f\x7f]+$"
ID_MAX_LENGTH = 64

CommandState = Literal["RECEIVED", "EXECUTING", "EXECUTED", "FAILED"]


class UplinkRequest(BaseModel):
    """A command as the ground sends it; fields beyond the contract are ignored."""

    model_config = ConfigDict(strict=True, extra="ignore")

    id: str = Field(min_length=1, max_length=ID_MAX_LENGTH, pattern=_PRINTABLE,
                    description="the telecommand id; re-sending the same id is harmless")
    command_name: str = Field(min_length=1, max_length=64,
                              description="a command of the spacecraft catalog, e.g. PING")
    args: dict[str, Any] | None = Field(default=None, description="the command's arguments")
    module_id: str | None = Field(default=None, max_length=ID_MAX_LENGTH, pattern=_PRINTABLE)


def is_valid_id(value: str) -> bool:
    """Whether ``value`` could be the id of a received command (UplinkRequest's rule)."""
    return len(value) <= ID_MAX_LENGTH and re.fullmatch(_PRINTABLE, value) is not None


class Acknowledgement(BaseModel):
    """The answer to POST /commands, the same for a first receipt and every re-send."""

    id: str
    state: CommandState
    executions: int = Field(description="how many times the command ran: 0 or 1")
    received_at: datetime
    acknowledged: Literal[True]


class CommandReport(BaseModel):
    """A received command and how far it got on board."""

    id: str
    command_name: str
    state: CommandState
    detail: str | None = Field(description="why it failed, when it did")
    executions: int = Field(description="how many times the command ran: never above 1")
    receipts: int = Field(description="how many times the command was received")
    received_at: datetime
    finished_at: datetime | None


class Attitude(BaseModel):
    roll: float = Field(description="degrees")
    pitch: float = Field(description="degrees")
    yaw: float = Field(description="degrees")


class CommandCounts(BaseModel):
    received: int = Field(description="distinct commands received (re-sends not counted)")
    executed: int
    failed: int


class StateReport(BaseModel):
    """The simulated spacecraft's state after every due command has run."""

    heater_on: bool
    attitude: Attitude
    solar_array_deployed: bool
    images_captured: int
    boot_count: int
    updated_at: datetime
    commands: CommandCounts
