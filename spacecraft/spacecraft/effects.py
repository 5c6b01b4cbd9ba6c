"""What each command does to the spacecraft's state, as plain Python on the state row's values.

The executor reads the state row once per pass, applies the pass's commands here in execute_at
order and writes the row back once, so a pass of N commands costs one read and one write of
the state however large N is. Nothing here knows about SQL or HTTP.
"""

from __future__ import annotations

from typing import Any

# The columns of SpacecraftState that commands change.
STATE_FIELDS = ("heater_on", "roll_deg", "pitch_deg", "yaw_deg", "solar_array_deployed",
                "images_captured", "boot_count")


def apply(command_name: str, args: dict[str, Any], state: dict[str, Any]) -> str | None:
    """Change ``state`` as the command does; return why it could not run, or None if it ran."""
    if command_name == "PING":
        return None
    if command_name == "SET_HEATER":
        state["heater_on"] = bool(args["on"])
    elif command_name == "ADJUST_ATTITUDE":
        state.update(roll_deg=args["roll"], pitch_deg=args["pitch"], yaw_deg=args["yaw"])
    elif command_name == "CAPTURE_IMAGE":
        state["images_captured"] += 1
    elif command_name == "DEPLOY_SOLAR_ARRAY":
        if state["solar_array_deployed"]:
            return "solar array already deployed"
        state["solar_array_deployed"] = True
    elif command_name == "REBOOT":
        state["boot_count"] += 1
        state["heater_on"] = False
    else:
        return f"no on-board handler for {command_name}"
    return None
