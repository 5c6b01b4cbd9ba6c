"""Shapes of the uplink protocol (docs/uplink.md): the requests a target accepts and the
answers it gives, the same for the spacecraft and robot-server.

The same models validate requests, build the answers and document the API, so the three
cannot drift apart.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .openapi import PLAIN_TEXT_PATTERN
from .validation import PlainText

# Ids end up in URLs, logs and SQL strings: control characters (NUL above all, which
# PostgreSQL refuses in text) have no business there.
_PRINTABLE = r"^[^\x00-\x1f\x7f]+$"
ID_MAX_LENGTH = 64
USERNAME_MAX_LENGTH = 64  # Telecommand.confirmed_by's column

CommandState = Literal["RECEIVED", "EXECUTING", "EXECUTED", "FAILED"]
# invalid_command: the catalog refuses it; unknown_target: no such robot or module (robot-server)
RefusalCode = Literal["invalid_command", "unknown_target"]
CommandId = Annotated[str, Field(min_length=1, max_length=ID_MAX_LENGTH, pattern=_PRINTABLE)]


class UplinkRequest(BaseModel):
    """A command as the ground sends it; fields beyond the contract are ignored, except
    ``commands``, which makes a body a batch."""

    model_config = ConfigDict(strict=True, extra="ignore",
                              json_schema_extra={"not": {"required": ["commands"]}})

    id: CommandId = Field(description="the telecommand id; re-sending the same id is harmless")
    command_name: str = Field(min_length=1, max_length=64,
                              description="a command of the target's catalog, e.g. PING")
    args: dict[str, Any] | None = Field(default=None, description="the command's arguments")
    target: str | None = Field(default=None, min_length=1, max_length=ID_MAX_LENGTH,
                               pattern=_PRINTABLE,
                               description="the telecommand's target id (the command-sender "
                                           "always sends it; robot-server needs it, the "
                                           "spacecraft ignores it)")
    module_id: str | None = Field(default=None, max_length=ID_MAX_LENGTH, pattern=_PRINTABLE)
    confirmed_by: PlainText | None = Field(
        default=None, min_length=1, max_length=USERNAME_MAX_LENGTH,
        json_schema_extra={"pattern": PLAIN_TEXT_PATTERN},
        description="the user who confirmed a hazardous command on ground; a hazardous "
                    "command without it is refused")

    @model_validator(mode="before")
    @classmethod
    def _not_a_batch(cls, data: Any) -> Any:
        # Inside a batch an item with its own "commands" is a mistake, not a nested batch.
        if isinstance(data, dict) and "commands" in data:
            raise ValueError("a command has no commands field; send a batch as "
                             "{\"commands\": [...]} at the top of the body")
        return data


class UplinkBatch(BaseModel):
    """Many commands in one call: 1 to UPLINK_BATCH_MAX of them, with distinct ids."""

    model_config = ConfigDict(strict=True, extra="ignore")

    commands: list[UplinkRequest] = Field(min_length=1,
                                          description="the commands, each as the single form")


class UplinkQuery(BaseModel):
    """The ids whose state the ground asks for in one call."""

    model_config = ConfigDict(strict=True, extra="ignore")

    ids: list[CommandId] = Field(min_length=1, description="command ids; one listed twice is "
                                                           "reported once")


def is_valid_id(value: str) -> bool:
    """Whether ``value`` could be the id of a received command (UplinkRequest's rule)."""
    return len(value) <= ID_MAX_LENGTH and re.fullmatch(_PRINTABLE, value) is not None


class Incoming(NamedTuple):
    """A command as received, its arguments already checked against the catalog."""

    id: str
    command_name: str
    args: dict[str, Any]
    module_id: str | None
    target: str | None = None
    confirmed_by: str | None = None


class Acknowledgement(BaseModel):
    """The answer to POST /commands, the same for a first receipt and every re-send."""

    id: str
    state: CommandState
    executions: int = Field(description="how many times the command ran: 0 or 1")
    received_at: datetime
    acknowledged: Literal[True]


class Refusal(BaseModel):
    """A command of a batch that the target refuses (its catalog, or robot-server's check of
    the target): it is not stored."""

    id: str
    acknowledged: Literal[False]
    error: RefusalCode
    message: str


class BatchAcknowledgement(BaseModel):
    """The answer to a batch: one item per command, in request order."""

    acknowledgements: list[Acknowledgement | Refusal]


class CommandReport(BaseModel):
    """A received command and how far it got on the target."""

    id: str
    command_name: str
    state: CommandState
    detail: str | None = Field(description="why it failed, when it did")
    executions: int = Field(description="how many times the command ran: never above 1")
    receipts: int = Field(description="how many times the command was received")
    received_at: datetime
    finished_at: datetime | None


class QueryReport(BaseModel):
    """The answer to POST /commands/query."""

    commands: list[CommandReport] = Field(description="the known commands, in request order")
    unknown: list[str] = Field(description="the ids never received")
