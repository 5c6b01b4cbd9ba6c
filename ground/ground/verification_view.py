"""How a command's verifier and what it saw are shown (the command's JSON, the detail page)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from mission_control.catalog import verifier_of
from mission_control.verifiers import COMPARISONS
from mission_control.models import Telecommand
from mission_control.status import ACTIVE, Status
from mission_control.timeutil import isoformat

STATES = ("pending", "checking", "verified", "not_verified", "not_checked")


def summary(command: Telecommand) -> dict[str, Any] | None:
    """The verifier of a command and its state; None for a command that has none.

    pending: the target has not executed it yet; checking: it has, and the worker watches the
    telemetry; verified / not_verified: the verdict; not_checked: it ended otherwise (the
    target failed it, it was cancelled)."""
    verifier = verifier_of(command.command_name)
    if verifier is None:
        return None
    try:
        expected: float | None = verifier.expected(command.args or {})
        condition = verifier.condition(command.args or {})
    except (TypeError, ValueError):  # arguments no target accepts: it fails before checking
        expected, condition = None, None
    return {"source": command.target_id, "parameter": verifier.parameter,
            "comparison": verifier.comparison, "value": expected, "condition": condition,
            "within_s": verifier.within_s, "state": _state(command),
            "value_seen": command.verified_value, "seen_at": isoformat(command.verified_at)}


def _state(command: Telecommand) -> str:
    status = Status(command.status)
    if status is Status.EXECUTED and command.verified_at is not None:
        return "verified"
    if status is Status.FAILED and command.verifying_since is not None:
        return "not_verified"
    if status is Status.ACKNOWLEDGED and command.verifying_since is not None:
        return "checking"
    return "pending" if status in ACTIVE else "not_checked"


class VerificationOut(BaseModel):
    """A command's verifier (catalog) and what the worker saw of it (docs/lifecycle.md)."""

    source: str = Field(description="the telemetry source watched: the command's target")
    parameter: str
    comparison: Literal["==", "!=", "<", "<=", ">", ">="]
    value: float | None = Field(description="the value compared with (from the arguments "
                                            "where the catalog says so)")
    condition: str | None = Field(description="e.g. \"heater == 1\"")
    within_s: float = Field(description="the window after ACKNOWLEDGED")
    state: Literal[STATES] = Field(description="pending (target not done), checking (watching "
                                               "telemetry), verified, not_verified, not_checked "
                                               "(ended otherwise)")
    value_seen: float | None = Field(description="the satisfying value, or the last one seen "
                                                 "when the window passed")
    seen_at: str | None = Field(description="that point's time (UTC, ISO 8601)")


def verifier_schema() -> dict[str, Any]:
    """A catalog entry's ``verifier`` in GET /api/catalog (Verifier.describe)."""
    number = {"anyOf": [{"type": "number"}, {"type": "null"}]}
    return {"anyOf": [{"type": "null"}, {
        "type": "object", "description": "a telemetry condition on the target that must be "
        "seen within within_s after ACKNOWLEDGED for the command to end EXECUTED",
        "required": ["parameter", "comparison", "value", "value_from", "within_s"],
        "properties": {"parameter": {"type": "string"},
                       "comparison": {"enum": list(COMPARISONS)},
                       "value": {**number, "description": "a constant to compare with"},
                       "value_from": {"anyOf": [{"type": "string"}, {"type": "null"}],
                                      "description": "or the argument whose value it is"},
                       "within_s": {"type": "number"}}}]}
