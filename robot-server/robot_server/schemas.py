"""Request and response bodies of robot-server, validated by pydantic (422 per field)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from mission_control.openapi import PLAIN_TEXT_PATTERN
from mission_control.progress_models import PHASE_MAX
from mission_control.validation import PlainText, WholeNumber

Status = Literal["IDLE", "RUNNING", "FAILED"]
# A JSON number that is finite (Python's json reads NaN and Infinity); true/false are not numbers.
Number = Annotated[float, Field(strict=True, allow_inf_nan=False)]
MAX_MODULES = 100


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SessionRequest(_Body):
    password: str = Field(min_length=1, max_length=1024, description="the robot's password")


class SessionOut(BaseModel):
    token: str = Field(description="bearer token for this robot's other calls")
    expires_at: datetime = Field(description="when it lapses unless used (each use renews it)")


class Position(_Body):
    x: Number
    y: Number
    z: Number


class Telemetry(_Body):
    battery: Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0, le=100)] | None = \
        Field(None, description="per cent")
    temperature: Number | None = Field(None, description="degrees Celsius")
    cpu: Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0, le=100)] | None = \
        Field(None, description="per cent")
    position: Position | None = Field(None, description="metres")


class ModuleStatus(_Body):
    module_id: uuid.UUID
    status: Status


class Heartbeat(_Body):
    status: Status
    modules: list[ModuleStatus] = Field(default_factory=list, max_length=MAX_MODULES)
    telemetry: Telemetry | None = None

    @field_validator("modules")
    @classmethod
    def _once_each(cls, modules: list[ModuleStatus]) -> list[ModuleStatus]:
        ids = [m.module_id for m in modules]
        if len(set(ids)) != len(ids):
            raise ValueError("each module_id may appear once")
        return modules


class HeartbeatOut(BaseModel):
    connection: Literal["online", "offline"]
    last_online: datetime
    heartbeat_interval_s: float = Field(description="send the next heartbeat within this")
    heartbeat_timeout_s: float = Field(description="offline after this long without one")


class ModuleOut(BaseModel):
    id: uuid.UUID
    name: str
    type: str
    status: Status


class RobotProfile(BaseModel):
    id: uuid.UUID
    name: str
    status: Status
    ip_address: str | None = Field(description="where its client listens for its modules")
    port: int | None
    modules: list[ModuleOut] = Field(description="its modules, by name")


MAX_DETAIL = 500
MAX_WAIT_S = 30


class PollQuery(_Body):
    wait: Annotated[float, Field(ge=0, le=MAX_WAIT_S, allow_inf_nan=False)] = Field(
        20, description="seconds to wait for a command when none is pending, 0 to 30")


class PolledCommand(BaseModel):
    id: str = Field(description="the command's id: acknowledge it, then report its result")
    command_name: str
    args: dict[str, Any]
    module_id: uuid.UUID | None = Field(description="the module it is for; null: the robot")


class PollOut(BaseModel):
    commands: list[PolledCommand] = Field(description="pending commands in received order "
                                                      "(empty when none came in time)")


class AckOut(BaseModel):
    id: str
    state: Literal["EXECUTING"]


class ResultRequest(_Body):
    status: Literal["EXECUTED", "FAILED"]
    detail: PlainText | None = Field(None, max_length=MAX_DETAIL,
                                     json_schema_extra={"pattern": PLAIN_TEXT_PATTERN},
                                     description="what happened; why it failed")
    module_status: Status | None = Field(None, description="a module command only: the "
                                                           "module's status after it")


# Progress of a long-running command (docs/progress.md); BIGINT bounds the item counts.
MAX_ITEMS = 2**63 - 1
Count = Annotated[WholeNumber, Field(ge=0, le=MAX_ITEMS)]


class ProgressRequest(_Body):
    percent: Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0, le=100)] | None = \
        Field(None, description="how far the command got, 0 to 100")
    phase: PlainText | None = Field(None, min_length=1, max_length=PHASE_MAX,
                                    json_schema_extra={"pattern": PLAIN_TEXT_PATTERN},
                                    description="what it is doing now (e.g. driving); omitted: "
                                                "the phase it was in")
    done: Count | None = Field(None, description="items done")
    total: Count | None = Field(None, description="items in all")

    @model_validator(mode="after")
    def _done_within_total(self) -> "ProgressRequest":
        if self.done is not None and self.total is not None and self.done > self.total:
            raise ValueError("done must not be above total")
        return self


class ProgressOut(BaseModel):
    recorded: bool = Field(description="false: a report of the same phase came less than a "
                                       "second ago; this one was dropped (report again later)")
    percent: float | None
    phase: str | None
    done: int | None
    total: int | None
    updated_at: datetime = Field(description="when the stored progress was written")
