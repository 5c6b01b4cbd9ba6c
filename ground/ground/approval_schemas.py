"""Bodies and answers of the approval and command-authority routes (approval_api.py,
control_api.py)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, StrictFloat

from mission_control.validation import PlainText

from .schemas import NO_CONTROL


class Rejection(BaseModel):
    """Body of POST /api/telecommands/{id}/reject."""

    model_config = ConfigDict(extra="forbid")

    reason: PlainText = Field(min_length=1, max_length=500, json_schema_extra=NO_CONTROL,
                              description="why: kept as the command's status reason")


LEASE_MAX_S = 24 * 3600  # the longest control one request may ask for


class ControlRequest(BaseModel):
    """Optional body of POST /api/targets/{id}/control."""

    model_config = ConfigDict(extra="forbid")

    lease_s: StrictFloat | None = Field(
        None, gt=0, le=LEASE_MAX_S, allow_inf_nan=False,
        description="how long the control lasts unless renewed, in seconds (default "
                    "CONTROL_LEASE_S; at most a day)")


class ControlOut(BaseModel):
    target: str = Field(description="the target held (a robot's hold covers its modules)")
    holder: str = Field(description="the user holding it")
    acquired_at: str
    expires_at: str = Field(description="when the lease runs out unless its holder renews it")


class ControlState(BaseModel):
    target: str
    control: ControlOut | None = Field(description="the running control of the target or of "
                                                   "the robot it belongs to; null: free")


class ControlList(BaseModel):
    items: list[ControlOut] = Field(description="every running control, by target")
