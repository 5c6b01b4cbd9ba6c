"""Request bodies, query strings and answers of the limits and alerts API."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictFloat

from mission_control.alert_models import KINDS, SEVERITIES, STATES
from mission_control.validation import PlainText, WholeNumber

from .schemas import NO_CONTROL

BOUND_MAX = 1e12  # any physical reading fits; bounds stay far from float overflow
SHELVE_MAX_S = 30 * 24 * 3600
MAX_LIMITS = 100  # limits in one PUT /api/limits (their largest fit MAX_BODY_BYTES)
NAME = {"min_length": 1, "max_length": 64, "json_schema_extra": NO_CONTROL}
Bound = StrictFloat | None


def _bound(description: str):
    return Field(None, ge=-BOUND_MAX, le=BOUND_MAX, allow_inf_nan=False,
                 description=description + "; null: no bound")


class LimitIn(BaseModel):
    """One limit of PUT /api/limits: replaces the row of its source and parameter."""

    model_config = ConfigDict(extra="forbid")

    source: PlainText = Field(description="a source id (target id), kind:<kind> "
                                          "(kind:robot, kind:spacecraft) or * (every source)",
                              **NAME)
    parameter: PlainText = Field(**NAME)
    yellow_low: Bound = _bound("warning below this")
    yellow_high: Bound = _bound("warning above this")
    red_low: Bound = _bound("critical below this (at most yellow_low)")
    red_high: Bound = _bound("critical above this (at least yellow_high)")
    persistence: WholeNumber = Field(1, ge=1, le=1000, description="consecutive samples "
                                     "beyond a limit before it counts as crossed")


class LimitOut(BaseModel):
    source: str
    parameter: str
    yellow_low: float | None
    yellow_high: float | None
    red_low: float | None
    red_high: float | None
    persistence: int


class LimitList(BaseModel):
    items: list[LimitOut] = Field(description="the stored limits, by source and parameter")
    defaults: list[LimitOut] = Field(description="the built-in limits per kind of source, "
                                                 "used where no stored limit names the "
                                                 "parameter")


class AlertQuery(BaseModel):
    """Query string of GET /api/alerts."""

    model_config = ConfigDict(extra="forbid")

    state: Literal[(*STATES, "shelved")] | None = Field(
        None, description="open leaves out shelved alerts; shelved lists them")
    severity: Literal[SEVERITIES] | None = None
    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0, le=1_000_000_000)


class Acknowledgement(BaseModel):
    """Optional body of POST /api/alerts/{id}/acknowledge."""

    model_config = ConfigDict(extra="forbid")

    comment: PlainText | None = Field(None, max_length=1000, json_schema_extra=NO_CONTROL)


class Shelving(BaseModel):
    """Body of POST /api/alerts/{id}/shelve."""

    model_config = ConfigDict(extra="forbid")

    duration_s: StrictFloat = Field(gt=0, le=SHELVE_MAX_S, allow_inf_nan=False,
                                    description="how long the alert is hidden from the open list")


class AlertOut(BaseModel):
    id: int
    source: str
    parameter: str | None = Field(description="null for telecommand alerts; connection for "
                                              "offline alerts")
    kind: Literal[KINDS]
    severity: Literal[SEVERITIES]
    state: Literal[STATES]
    value: float | None
    limit_crossed: str | None = Field(description="yellow_low, yellow_high, red_low or red_high")
    limit_value: float | None
    message: str
    command_id: str | None
    opened_at: str
    updated_at: str
    cleared: bool = Field(description="the condition has gone (an alert nobody acknowledged "
                                      "stays listed)")
    cleared_at: str | None
    shelved: bool
    shelved_until: str | None
    shelved_by: str | None
    acknowledged_by: str | None
    acknowledged_at: str | None
    comment: str | None
    resolved_by: str | None = Field(description="system when it cleared after its "
                                                "acknowledgement")
    resolved_at: str | None


class AlertPage(BaseModel):
    items: list[AlertOut]
    total: int
    limit: int
    offset: int
