"""Shapes of the simulated spacecraft's own answers (the uplink's are in
mission_control.uplink_schemas)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class Attitude(BaseModel):
    roll: float = Field(description="degrees")
    pitch: float = Field(description="degrees")
    yaw: float = Field(description="degrees")


class CommandCounts(BaseModel):
    received: int = Field(description="distinct commands received (re-sends not counted)")
    executed: int
    failed: int


class StateReport(BaseModel):
    """The simulated spacecraft's state: what the executed commands made of it."""

    heater_on: bool
    attitude: Attitude
    solar_array_deployed: bool
    images_captured: int
    boot_count: int
    updated_at: datetime
    commands: CommandCounts
