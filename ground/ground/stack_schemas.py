"""Request bodies, query strings and answers of the stacks API (docs/stacks.md)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from mission_control.stack_models import ON_FAILURE, STACK_STATUSES, WAIT_FOR
from mission_control.validation import PlainText

from .schemas import NO_CONTROL

MAX_STEPS = 100
MAX_DELAY_S = 86_400.0  # a day between two steps at most


class NewStackStep(BaseModel):
    """One step of POST /api/stacks: a command of the catalog and what to wait for."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    command_name: PlainText = Field(min_length=1, max_length=64, examples=["PING"],
                                    json_schema_extra=NO_CONTROL)
    module_id: PlainText | None = Field(None, min_length=1, max_length=64,
                                        json_schema_extra=NO_CONTROL)
    args: dict[str, Any] = Field(default_factory=dict)
    confirm: StrictBool = Field(False, description="must be true for hazardous commands")
    wait_for: Literal[WAIT_FOR] = Field(description="the stage this step's command must reach "
                                                    "(or a final status) before the next step "
                                                    "is sent")
    delay_s: float = Field(0.0, ge=0, le=MAX_DELAY_S,
                           description="seconds between the previous step reaching its stage "
                                       "(for the first step: the stack's creation) and this "
                                       "step's transmission")


class NewStack(BaseModel):
    """Body of POST /api/stacks."""

    model_config = ConfigDict(extra="forbid")

    target: PlainText = Field(min_length=1, max_length=64, json_schema_extra=NO_CONTROL,
                              description="the target every step is addressed to")
    name: PlainText | None = Field(None, min_length=1, max_length=200,
                                   json_schema_extra=NO_CONTROL)
    on_failure: Literal[ON_FAILURE] = Field("stop", description="stop: a failed or cancelled "
                                            "step ends the stack FAILED; continue: go on")
    steps: list[NewStackStep] = Field(min_length=1, max_length=MAX_STEPS)


class StackQuery(BaseModel):
    """Query string of GET /api/stacks."""

    model_config = ConfigDict(extra="forbid")

    status: Literal[STACK_STATUSES] | None = None
    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0, le=1_000_000_000)


class StackStepOut(BaseModel):
    position: int = Field(description="1 for the first step")
    command_name: str
    module_id: str | None
    args: dict[str, Any]
    confirm: bool
    wait_for: Literal[WAIT_FOR]
    delay_s: float
    telecommand_id: str | None = Field(description="its command, once created")
    status: str = Field(description="PENDING (not created yet), SKIPPED (never sent), or its "
                                    "command's status")
    status_reason: str | None


class Progress(BaseModel):
    done: int = Field(description="steps whose command reached a final status")
    total: int


class StackOut(BaseModel):
    id: str
    target: str
    name: str | None
    status: Literal[STACK_STATUSES]
    status_reason: str | None
    on_failure: Literal[ON_FAILURE]
    created_by: str
    created_at: str
    updated_at: str
    progress: Progress
    steps: list[StackStepOut] | None = Field(None, description="only on POST and on GET of "
                                                               "one stack")


class StackPage(BaseModel):
    items: list[StackOut]
    total: int
    limit: int
    offset: int
