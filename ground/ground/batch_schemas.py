"""Request bodies, query strings and answers of the fleet-wide commands API (/api/batches)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, model_validator

from mission_control.registry_models import ASSET_STATUSES
from mission_control.status import Status
from mission_control.validation import PlainText

from .schemas import NO_CONTROL, TARGET_ID_MAX

# The hard ceiling of a list of targets, whatever BATCH_MAX_TARGETS says (the body's size
# limit, MAX_BODY_BYTES, usually refuses such a list first).
TARGETS_CEILING = 100_000
AssetStatus = Literal[ASSET_STATUSES]  # type: ignore[valid-type]
TargetId = Annotated[PlainText, Field(min_length=1, max_length=TARGET_ID_MAX,
                                      json_schema_extra=NO_CONTROL)]


class Selector(BaseModel):
    """Which robots a fleet-wide command goes to: every robot matching all the given fields
    (none given: the whole fleet)."""

    model_config = ConfigDict(extra="forbid")

    workspace_id: uuid.UUID | None = Field(None, description="robots on a level of this workspace")
    project_id: uuid.UUID | None = Field(None, description="robots on a level of this project")
    level_id: uuid.UUID | None = Field(None, description="robots on this level")
    status: AssetStatus | None = Field(None, description="robots with this status")
    connection: Literal["online", "offline"] | None = None
    module: PlainText | None = Field(None, min_length=1, max_length=100,
                                     json_schema_extra=NO_CONTROL,
                                     description="the command goes to each selected robot's "
                                                 "module of this name (every one must have it)")



class NewBatch(BaseModel):
    """Body of POST /api/batches: a command and either a list of targets or a selector."""

    model_config = ConfigDict(extra="forbid")

    command_name: PlainText = Field(min_length=1, max_length=64, examples=["STOP"],
                                    json_schema_extra=NO_CONTROL)
    args: dict[str, Any] = Field(default_factory=dict)
    confirm: StrictBool = Field(False, description="must be true for hazardous commands")
    targets: list[TargetId] | None = Field(
        None, min_length=1, max_length=TARGETS_CEILING,
        description="robot or module ids (a module's command goes to its robot, for the module)")
    selector: Selector | None = None

    @model_validator(mode="after")
    def _one_way(self) -> NewBatch:
        if (self.targets is None) == (self.selector is None):
            raise ValueError("give either targets or selector")
        return self


class BatchQuery(BaseModel):
    """Query string of GET /api/batches."""

    model_config = ConfigDict(extra="forbid")

    limit: int = Field(20, ge=1, le=200)
    offset: int = Field(0, ge=0, le=1_000_000_000)


class BatchCreated(BaseModel):
    id: str
    count: int


class FailedCommand(BaseModel):
    telecommand_id: str
    target: str = Field(description="the robot's id, or the module's for a module command")
    reason: str | None


class BatchOut(BaseModel):
    id: str
    command_name: str
    args: dict[str, Any]
    selector: dict[str, Any] | None
    module: str | None
    count: int = Field(description="how many telecommands it created (one per target)")
    counts: dict[Status, int] = Field(description="its telecommands by status, every status")
    failed: list[FailedCommand] | None = Field(
        None, description="only on GET of one batch: its FAILED commands (at most 1,000; "
                          "counts.FAILED says how many there are)")
    done: bool = Field(description="every telecommand reached a final state")
    created_at: str
    created_by: str


class BatchPage(BaseModel):
    items: list[BatchOut]
    total: int
    limit: int
    offset: int
