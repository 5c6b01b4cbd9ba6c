"""The command catalog: per target kind, the commands it accepts, their arguments, and hazards.

Argument schemas are pydantic models (strict types, unknown fields refused), so the same
definition validates requests, renders the operator form and documents the API.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError, field_validator

from .validation import WholeNumber, field_errors, plain_text, summary
from .verifiers import Verifier


class Args(BaseModel):
    # NaN and infinities are no JSON: the database's JSON columns refuse them.
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)

    @field_validator("*")
    @classmethod
    def _plain_text(cls, value: Any) -> Any:
        # Every string argument is stored and uplinked: the same rule as PlainText, for all.
        return plain_text(value) if isinstance(value, str) else value


class NoArgs(Args):
    pass


class SetHeaterArgs(Args):
    on: StrictBool = Field(description="true switches the heater on, false off")


class AdjustAttitudeArgs(Args):
    roll: float = Field(ge=-180, le=180, description="roll in degrees, -180 to 180")
    pitch: float = Field(ge=-90, le=90, description="pitch in degrees, -90 to 90")
    yaw: float = Field(ge=-180, le=180, description="yaw in degrees, -180 to 180")


class CaptureImageArgs(Args):
    exposure_ms: WholeNumber = Field(ge=1, le=60_000, description="exposure in milliseconds, 1 to 60000")


class MoveToArgs(Args):
    x: float = Field(ge=-1000, le=1000, description="x in metres, -1000 to 1000")
    y: float = Field(ge=-1000, le=1000, description="y in metres, -1000 to 1000")
    z: float = Field(ge=-100, le=100, description="z in metres, -100 to 100")


class SetSpeedArgs(Args):
    speed_m_s: float = Field(ge=0, le=2, description="speed in metres per second, 0 to 2")


@dataclass(frozen=True)
class CommandSpec:
    name: str
    description: str
    args: type[Args] = NoArgs
    hazardous: bool = False
    # A telemetry condition that must be seen after ACKNOWLEDGED (verifiers.py): the command
    # ends EXECUTED only when it is, FAILED "not verified" when its window passes.
    verifier: Verifier | None = None
    # A long-running command that reports progress: executing (ACKNOWLEDGED) with no report for
    # longer than this, it is flagged silent on the page (never failed for it). None: not a job.
    max_silence_s: float | None = None
    # Two-person approval under APPROVAL_REQUIRED=hazardous (the default): None follows the
    # hazard flag; True or False overrides it. "all" and "none" apply to every command.
    approval: bool | None = None

    def needs_approval(self, policy: str) -> bool:
        """Whether a command of this spec waits for a second user's approval under ``policy``
        (the APPROVAL_REQUIRED setting: hazardous, all or none)."""
        if policy in ("all", "none"):
            return policy == "all"
        return self.hazardous if self.approval is None else self.approval

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description, "hazardous": self.hazardous,
                "max_silence_s": self.max_silence_s, "args_schema": self.args.model_json_schema(),
                "verifier": self.verifier.describe() if self.verifier else None}


def _index(*specs: CommandSpec) -> dict[str, CommandSpec]:
    return {spec.name: spec for spec in specs}


# One spec per name: a name that several kinds accept means the same command for each.
PING = CommandSpec("PING", "Check that the target answers.")
REBOOT = CommandSpec("REBOOT", "Restart the on-board computer.", hazardous=True)
STOP = CommandSpec("STOP", "A robot stops moving; a module stops (RUNNING -> IDLE).")

CATALOG: dict[str, dict[str, CommandSpec]] = {
    "spacecraft": _index(
        PING,
        CommandSpec("SET_HEATER", "Switch the heater on or off.", SetHeaterArgs,
                    verifier=Verifier("heater", "==", value_from="on", within_s=10)),
        CommandSpec("ADJUST_ATTITUDE", "Turn to the given attitude.", AdjustAttitudeArgs),
        CommandSpec("CAPTURE_IMAGE", "Take a picture.", CaptureImageArgs),
        CommandSpec("DEPLOY_SOLAR_ARRAY", "Deploy the solar array (cannot be undone).", hazardous=True),
        REBOOT,
    ),
    "robot": _index(
        PING,
        CommandSpec("MOVE_TO", "Drive to a position (metres).", MoveToArgs,
                    max_silence_s=10),
        CommandSpec("SET_SPEED", "Set the driving speed.", SetSpeedArgs),
        STOP,
        CommandSpec("DOCK", "Drive to the dock and charge.", max_silence_s=10),
        REBOOT,
    ),
    "module": _index(
        PING,
        CommandSpec("START", "Start the module (IDLE -> RUNNING)."),
        STOP,
        CommandSpec("RESET", "Reset a failed module (FAILED -> IDLE)."),
    ),
}

# What a module command needs and leaves: command -> (the status it needs, the status after).
# The robot decides (robot-client) and robot-server stores what the robot reports; a command
# whose execution fails leaves the module FAILED.
MODULE_TRANSITIONS: dict[str, tuple[str, str]] = {
    "START": ("IDLE", "RUNNING"),
    "STOP": ("RUNNING", "IDLE"),
    "RESET": ("FAILED", "IDLE"),
}


class CatalogError(ValueError):
    """A command or its arguments are not acceptable; ``details`` lists what is allowed."""

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


def commands_for(kind: str) -> dict[str, CommandSpec]:
    return CATALOG.get(kind, {})


def spec_named(command_name: str) -> CommandSpec | None:
    """The spec of a command, whatever its target kind (a name means one command)."""
    for commands in CATALOG.values():
        spec = commands.get(command_name)
        if spec is not None:
            return spec
    return None


def verifier_of(command_name: str) -> Verifier | None:
    spec = spec_named(command_name)
    return spec.verifier if spec else None


def needs_approval(command_name: str, policy: str) -> bool:
    """Whether a command of this name waits for a second user's approval under ``policy``
    (APPROVAL_REQUIRED)."""
    spec = spec_named(command_name)
    return spec is not None and spec.needs_approval(policy)


def validate_command(kind: str, command_name: str, args: Any, *, confirm: bool = False) -> dict[str, Any]:
    """Check a command against the catalog of a target kind; return its normalised arguments."""
    commands = commands_for(kind)
    spec = commands.get(command_name)
    if spec is None:
        raise CatalogError(
            f"unknown command {command_name!r} for a {kind}; allowed: {', '.join(sorted(commands))}",
            allowed=sorted(commands))
    if args is None:
        args = {}
    if not isinstance(args, dict):
        raise CatalogError(f"args of {command_name} must be a JSON object",
                           args_schema=spec.args.model_json_schema())
    try:
        parsed = spec.args.model_validate(args)
    except ValidationError as error:
        fields = field_errors(error, "args")
        raise CatalogError(f"invalid args for {command_name}: {summary(fields)}", fields=fields,
                           args_schema=spec.args.model_json_schema()) from None
    if spec.hazardous and confirm is not True:
        raise CatalogError(f"{command_name} is hazardous: send \"confirm\": true to issue it",
                           hazardous=True)
    return parsed.model_dump()


def max_silence_s(command_name: str) -> float | None:
    """The catalog's max_silence_s of a command (one spec per name, whatever the kind)."""
    spec = spec_named(command_name)
    return spec.max_silence_s if spec else None
