"""Request bodies and query strings of the telecommand API, validated before any domain call."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from mission_control.openapi import PLAIN_TEXT_PATTERN
from mission_control.status import Status
from mission_control.validation import PlainText

# PlainText's refusal of control characters, stated in the OpenAPI document.
NO_CONTROL = {"pattern": PLAIN_TEXT_PATTERN}


class NewTelecommand(BaseModel):
    """Body of POST /api/telecommands."""

    model_config = ConfigDict(extra="forbid")

    command_name: PlainText = Field(min_length=1, max_length=64, examples=["PING"],
                                    json_schema_extra=NO_CONTROL)
    target: PlainText | None = Field(None, min_length=1, max_length=64, json_schema_extra=NO_CONTROL,
                                     description="target id; the spacecraft when omitted")
    module_id: PlainText | None = Field(None, min_length=1, max_length=64,
                                        json_schema_extra=NO_CONTROL)
    args: dict[str, Any] = Field(default_factory=dict)
    confirm: StrictBool = Field(False, description="must be true for hazardous commands")


class ListQuery(BaseModel):
    """Query string of GET /api/telecommands."""

    model_config = ConfigDict(extra="forbid")

    status: Status | None = None
    target: PlainText | None = Field(None, max_length=64, json_schema_extra=NO_CONTROL)
    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0, le=1_000_000_000)


class HistoryEntry(BaseModel):
    from_status: Status | None
    to_status: Status
    at: str = Field(description="UTC, ISO 8601")
    actor: str
    reason: str | None


class TelecommandOut(BaseModel):
    id: str
    command_name: str
    target: str
    module_id: str | None
    args: dict[str, Any]
    status: Status
    status_reason: str | None
    operator: str
    confirmed_by: str | None = Field(description="who confirmed it (hazardous commands: its "
                                                 "sender, with \"confirm\": true); the uplink "
                                                 "carries it")
    request_id: str | None = Field(description="the X-Request-ID of the call that created it: "
                                               "its log lines in every service carry it")
    created_at: str
    updated_at: str
    transmit_at: str | None = Field(description="scheduled transmission time while READY")
    history: list[HistoryEntry] | None = Field(None, description="only on GET of one command")


class TelecommandPage(BaseModel):
    items: list[TelecommandOut]
    total: int
    limit: int
    offset: int
