"""What a telemetry batch and a telemetry query may hold: the rules of POST and GET
/api/telemetry, in pydantic models that know nothing of HTTP.

A batch is all or nothing: ``check_batch`` names every bad point (its index in the batch, the
field, why), and then nothing of the batch is stored.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from pydantic import (
    AfterValidator, AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError,
    model_validator,
)

from .openapi import PLAIN_TEXT_PATTERN
from .telemetry_models import NAME_MAX, UNIT_MAX
from .timeutil import utcnow
from .validation import PlainText, field_errors

MAX_POINTS = 10_000  # per request
MAX_ERRORS = 100  # bad points described in one answer (the count says how many there were)
# A point's time: no earlier than this, and at most this far ahead of the server's clock.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
MAX_AHEAD = timedelta(days=1)
# Queries: the window when since/until are missing, and the answer's size.
DEFAULT_WINDOW = timedelta(hours=1)
MAX_WINDOW = timedelta(days=366)
DEFAULT_MAX_POINTS, MAX_MAX_POINTS = 1_000, 10_000

_ISO_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]")


def _iso_text(value: Any) -> Any:
    # pydantic would also read a number (or a string of digits) as Unix seconds: a time is
    # ISO 8601 text only.
    if not isinstance(value, str) or not _ISO_DATETIME.match(value):
        raise ValueError("must be an ISO 8601 date and time with a timezone, "
                         "e.g. 2026-11-26T08:30:00Z")
    return value


def _in_range(value: datetime) -> datetime:
    try:
        if value < EARLIEST:
            raise ValueError(f"must not be before {EARLIEST.isoformat()}")
        if value > utcnow() + MAX_AHEAD:
            raise ValueError("must not be more than a day ahead of the server's clock")
        return value.astimezone(UTC)
    except OverflowError:  # year 1 or 9999 with an offset: beyond any range anyway
        raise ValueError("must be between 1970 and a day from now") from None


Time = Annotated[AwareDatetime, BeforeValidator(_iso_text)]
PointTime = Annotated[Time, AfterValidator(_in_range)]
NO_CONTROL = {"pattern": PLAIN_TEXT_PATTERN}  # PlainText's rule, stated in OpenAPI
Name = Annotated[PlainText, Field(min_length=1, max_length=NAME_MAX, json_schema_extra=NO_CONTROL)]
# A finite JSON number: not true/false, not a string, not NaN or Infinity, not absurdly large
# (an integer of hundreds of digits is no measurement).
MAX_VALUE = 1e300
Value = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=-MAX_VALUE, le=MAX_VALUE)]


class Point(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: Name = Field(description='"spacecraft" or a robot\'s target id')
    parameter: Name = Field(description='e.g. "temperature"')
    value: Value
    unit: Annotated[PlainText, Field(min_length=1, max_length=UNIT_MAX,
                                     json_schema_extra=NO_CONTROL)] | None = None
    time: PointTime | None = Field(None, description="ISO 8601 with a timezone, from 1970 to "
                                                      "a day ahead of the server; missing: now")


class Batch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    points: list[Point] = Field(min_length=1, max_length=MAX_POINTS)


class BadBatch(Exception):
    """The batch is refused: ``errors`` names each problem (``index`` of the point, or None
    for the whole body), ``count`` how many there were."""

    def __init__(self, errors: list[dict[str, Any]], count: int) -> None:
        super().__init__(f"{count} problems")
        self.errors, self.count = errors, count


def check_batch(data: Any) -> list[Point]:
    """The points of a parsed JSON body ``{"points": [...]}``, or BadBatch."""
    if not isinstance(data, dict):
        raise BadBatch([{"index": None, "field": "body",
                         "message": 'the body must be a JSON object {"points": [...]}'}], 1)
    try:
        return Batch.model_validate(data).points
    except ValidationError as error:
        problems = field_errors(error, "body")
        raise BadBatch([_by_point(p) for p in problems[:MAX_ERRORS]], len(problems)) from None


def _by_point(problem: dict[str, str]) -> dict[str, Any]:
    """``{"field": "points.3.value", ...}`` as ``{"index": 3, "field": "value", ...}``."""
    parts = problem["field"].split(".", 2)
    if len(parts) >= 2 and parts[0] == "points" and parts[1].isdigit():
        return {"index": int(parts[1]), "field": parts[2] if len(parts) == 3 else "point",
                "message": problem["message"]}
    return {"index": None, **problem}


def window(since: datetime | None, until: datetime | None, default: timedelta,
           maximum: timedelta) -> tuple[datetime, datetime]:
    """A query's [since, until) in UTC: until defaults to now, since to ``default`` before
    it; since must come first and the span be at most ``maximum``."""
    try:
        until = (until or utcnow()).astimezone(UTC)
        since = (since or until - default).astimezone(UTC)
    except OverflowError:
        raise ValueError("since and until must be real times") from None
    if since >= until:
        raise ValueError("since must be before until")
    if until - since > maximum:
        raise ValueError(f"the window is at most {maximum.days} days")
    return since, until


class SeriesQuery(BaseModel):
    """GET /api/telemetry: one parameter of one source over [since, until)."""

    model_config = ConfigDict(extra="forbid")

    source: Name
    parameter: Name
    since: Time | None = Field(None, description="default: until minus one hour")
    until: Time | None = Field(None, description="default: now")
    max_points: int = Field(DEFAULT_MAX_POINTS, ge=10, le=MAX_MAX_POINTS)

    @model_validator(mode="after")
    def _window(self) -> SeriesQuery:
        self.since, self.until = window(self.since, self.until, DEFAULT_WINDOW, MAX_WINDOW)
        return self


class LatestQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: Name


# GET /api/telemetry.csv: raw points, so a smaller window and a row cap keep a file bounded.
CSV_DEFAULT_WINDOW = timedelta(hours=24)
CSV_MAX_WINDOW = timedelta(days=31)
CSV_MAX_ROWS = 1_000_000


class CsvQuery(BaseModel):
    """GET /api/telemetry.csv: a source's raw points over [since, until), of one parameter or
    of all."""

    model_config = ConfigDict(extra="forbid")

    source: Name
    parameter: Name | None = Field(None, description="missing: every parameter of the source")
    since: Time | None = Field(None, description="default: until minus 24 hours")
    until: Time | None = Field(None, description="default: now")

    @model_validator(mode="after")
    def _window(self) -> CsvQuery:
        self.since, self.until = window(self.since, self.until, CSV_DEFAULT_WINDOW,
                                        CSV_MAX_WINDOW)
        return self
