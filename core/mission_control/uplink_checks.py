"""What every uplink target checks before it stores a command, and how it says no; nothing
here knows about HTTP (uplink_routes.py answers a refusal with 422, or in a batch's answer)."""

from __future__ import annotations

from typing import Any

from .catalog import CatalogError, commands_for, validate_command
from .uplink_schemas import Incoming, RefusalCode, UplinkRequest


class Refused(Exception):
    """A command the target will not store: 422 for the single form, a refusal in a batch."""

    def __init__(self, error: RefusalCode, message: str, **details: Any) -> None:
        super().__init__(message)
        self.error = error
        self.message = message
        self.details = details


def catalog_checked(kind: str, body: UplinkRequest) -> Incoming:
    """The command with its arguments normalised by the catalog of ``kind``; Refused if not.

    Hazard confirmation is ground's business (a second look by a user with the right role):
    a hazardous command arrives with ``confirmed_by``, the user who confirmed it, or is
    refused.
    """
    spec = commands_for(kind).get(body.command_name)
    if spec is not None and spec.hazardous and body.confirmed_by is None:
        raise Refused("invalid_command",
                      f"{body.command_name} is hazardous: the uplink must name the user who "
                      "confirmed it in confirmed_by", hazardous=True,
                      fields=[{"field": "confirmed_by",
                               "message": "required for a hazardous command"}])
    try:
        args = validate_command(kind, body.command_name, body.args, confirm=True)
    except CatalogError as error:
        raise Refused("invalid_command", error.message, **error.details) from None
    return Incoming(body.id, body.command_name, args, body.module_id, body.target,
                    body.confirmed_by)
