"""The answers about job progress (docs/progress.md): a command's progress and phases, and a
robot's current job in the fleet view."""

from __future__ import annotations

from pydantic import BaseModel, Field


class PhaseOut(BaseModel):
    phase: str
    started_at: str = Field(description="UTC, ISO 8601: when the robot first reported it")


class CommandProgressOut(BaseModel):
    percent: float | None = Field(description="0 to 100")
    phase: str | None = Field(description="what the command is doing now")
    done: int | None = Field(description="items done")
    total: int | None = Field(description="items in all")
    updated_at: str = Field(description="UTC, ISO 8601: the latest report stored (robot-server "
                                        "stores about one a second)")
    phases: list[PhaseOut] = Field(description="every phase, oldest first")


class JobOut(BaseModel):
    command_id: str = Field(description="the robot's newest ACKNOWLEDGED (executing) command")
    command_name: str
    phase: str | None
    percent: float | None
