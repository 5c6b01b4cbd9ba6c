"""Request bodies and query strings of the telecommand API, validated before any domain call."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationInfo, field_validator

from mission_control import passes

from mission_control.openapi import PLAIN_TEXT_PATTERN
from mission_control.registry_models import ASSET_STATUSES
from mission_control.status import Status
from mission_control.timeutil import utcnow
from mission_control.validation import PlainText, Timestamp

from .verification_view import VerificationOut
from .progress_schemas import CommandProgressOut, JobOut

# PlainText's refusal of control characters, stated in the OpenAPI document.
NO_CONTROL = {"pattern": PLAIN_TEXT_PATTERN}
TARGET_ID_MAX = 64  # targets.id


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
    # Time tags (issue 12, point 2; docs/lifecycle.md "Time tags and contact windows").
    not_before: Timestamp | None = Field(None, description="UTC: not transmitted before this; "
                                         "READY and cancellable until then")
    expires_at: Timestamp | None = Field(None, description="UTC: still READY then, it ends "
                                         "FAILED \"expired\"; after not_before, not past")

    @field_validator("not_before")
    @classmethod
    def _sensible_not_before(cls, value: datetime | None) -> datetime | None:
        problem = value and passes.bounds_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("expires_at")
    @classmethod
    def _sensible_expiry(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        if value is None:
            return value
        problem = passes.bounds_problem(value)
        if problem:
            raise ValueError(problem)
        not_before = info.data.get("not_before")
        if not_before is not None and value <= not_before:
            raise ValueError("must be after not_before")
        if value <= utcnow():
            raise ValueError("is already past")
        return value


class ListQuery(BaseModel):
    """Query string of GET /api/telecommands."""

    model_config = ConfigDict(extra="forbid")

    status: Status | None = None
    target: PlainText | None = Field(None, max_length=TARGET_ID_MAX, json_schema_extra=NO_CONTROL,
                                     description="commands to this target (a robot's include "
                                                 "its modules')")
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
    approved_by: str | None = Field(None, description="two-person approval: who approved it "
                                                      "(null: none needed, or not yet)")
    created_at: str
    updated_at: str
    transmit_at: str | None = Field(description="scheduled transmission time while READY")
    not_before: str | None = Field(None, description="UTC: not transmitted before this")
    expires_at: str | None = Field(None, description="UTC: FAILED \"expired\" if still READY "
                                                     "then")
    waiting_for_pass: str | None = Field(None, description="READY and waiting for a contact "
                                         "window of its target: the start of the one it goes in")
    verification: VerificationOut | None = Field(description="the verifier from telemetry, for "
                                                            "commands whose catalog entry has one")
    history: list[HistoryEntry] | None = Field(None, description="only on GET of one command")
    # Job progress (issue 12, docs/progress.md): only on GET of one command.
    progress: CommandProgressOut | None = Field(None, description="what the robot reported "
                                                "while executing it; null when nothing")
    silent: bool | None = Field(None, description="ACKNOWLEDGED with no progress for longer "
                                                  "than max_silence_s (flagged, not failed)")
    max_silence_s: float | None = Field(None, description="the catalog's: null, not a job")


class TelecommandPage(BaseModel):
    items: list[TelecommandOut]
    total: int
    limit: int
    offset: int


class FleetModuleOut(BaseModel):
    id: str = Field(description="the registry's module id (UUID)")
    name: str
    type: str
    status: Literal[ASSET_STATUSES]
    last_online: str | None = Field(description="UTC, ISO 8601: the last heartbeat that "
                                                "reported it")


class FleetRobotOut(BaseModel):
    id: str = Field(description="the registry's robot id (UUID); commands to the robot name "
                                "it as their target (GET /api/telecommands?target=)")
    name: str
    connection: Literal["online", "offline"] = Field(
        description="online while its last heartbeat is younger than HEARTBEAT_TIMEOUT_S")
    status: Literal[ASSET_STATUSES]
    last_online: str | None = Field(description="UTC, ISO 8601: its last heartbeat")
    battery: float | None = Field(description="per cent, from the latest telemetry of its "
                                              "newest session; null when it sent none")
    modules: list[FleetModuleOut] = Field(description="sorted by name")
    job: JobOut | None = Field(None, description="its current job (issue 12), null when none")


class FleetOut(BaseModel):
    items: list[FleetRobotOut] = Field(description="every robot, sorted by name")
    total: int
    online: int = Field(description="how many of them are online")


class Accepted(BaseModel):
    accepted: int = Field(description="points in the batch, all stored (a point whose source, "
                                      "parameter and time were stored already is kept as it was)")


class RawPoint(BaseModel):
    time: str = Field(description="UTC, ISO 8601")
    value: float


class Bucket(BaseModel):
    time: str = Field(description="the bucket's start (UTC, ISO 8601): a multiple of bucket_s "
                                  "since the Unix epoch; it holds [time, time + bucket_s)")
    min: float
    max: float
    avg: float
    count: int


class SeriesOut(BaseModel):
    source: str
    parameter: str
    since: str
    until: str
    max_points: int
    mode: Literal["raw", "buckets"] = Field(description="raw when the window holds at most "
                                                        "max_points points")
    bucket_s: int | None = Field(description="the bucket width in seconds (mode buckets)")
    points: list[RawPoint] = Field(description="mode raw: every point, oldest first")
    buckets: list[Bucket] = Field(description="mode buckets: the buckets that hold points, "
                                              "oldest first")


class LatestParameter(BaseModel):
    parameter: str
    value: float
    unit: str | None
    time: str
    limit_state: str | None = Field(description="the value against its limits: ok, yellow or "
                                                "red; null where no limit applies")


class LatestOut(BaseModel):
    source: str
    parameters: list[LatestParameter] = Field(description="sorted by parameter")


class ReportRange(BaseModel):
    """Query string of the telecommand report (GET /api/reports/telecommands.csv)."""

    model_config = ConfigDict(extra="forbid")

    since: Timestamp | None = Field(None, description="commands created at or after this "
                                                      "(default: a day before `until`)")
    until: Timestamp | None = Field(None, description="commands created before this "
                                                      "(default: now)")
