"""Request and response bodies of robot-server, validated by pydantic (422 per field)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

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
