"""The uplink protocol's part of a target's OpenAPI document (the spacecraft's, robot-server's):
its shapes, its three paths and the uplink key's security scheme. Each target says what a
single command may be (``single``: the spacecraft, command by command from its catalog;
robot-server, a command naming its robot) and what it refuses."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from .openapi import components, error, errors, json_response, ref
from .uplink_schemas import (
    Acknowledgement, BatchAcknowledgement, CommandReport, QueryReport, Refusal, UplinkBatch,
    UplinkQuery, UplinkRequest,
)

MODELS: tuple[type[BaseModel], ...] = (UplinkRequest, UplinkBatch, UplinkQuery, Acknowledgement,
                                       Refusal, BatchAcknowledgement, CommandReport, QueryReport)
BAD_JSON = "the body is not valid JSON"
NOT_JSON = "the body is not application/json"
KEY_SCHEME = "uplinkKey"
SECURITY_SCHEME = {
    "type": "http", "scheme": "bearer",
    "description": "UPLINK_KEY, the key the command-sender holds (env UPLINK_KEY, else the "
                   "checkout's var/uplink-key). Only ground commands the targets."}
UNAUTHORIZED = "no Authorization: Bearer <UPLINK_KEY>, or another key (WWW-Authenticate: Bearer)"


def uplink_components(batch_max: int) -> dict[str, Any]:
    """The uplink's schemas, with the batch limits of this UPLINK_BATCH_MAX."""
    schemas = components(MODELS)
    schemas["UplinkBatch"]["properties"]["commands"]["maxItems"] = batch_max
    schemas["UplinkQuery"]["properties"]["ids"]["maxItems"] = batch_max
    return schemas


def uplink_paths(batch_max: int, single: dict[str, Any], refused: str) -> dict[str, Any]:
    """POST /commands (``single`` or a batch), POST /commands/query, GET /commands/{id};
    ``refused`` says when the target refuses one command (422)."""
    command_id = {"name": "command_id", "in": "path", "required": True,
                  "schema": {"type": "string", "minLength": 1, "maxLength": 64,
                             "pattern": r"^[^\x00-\x1f\x7f]+$"}}
    return {
        "/commands": {"post": {
            "summary": "Receive a command or a batch of commands; idempotent per id",
            "description": "A body with a `commands` field is a batch of 1 to "
                           f"{batch_max} commands with distinct ids; anything else is one "
                           "command. A re-sent id is not stored or run again: its receipt "
                           "count grows and its acknowledgement is the first receipt's "
                           "(with the current state). In a batch, a command the target "
                           "refuses is answered `acknowledged: false` and not stored; the "
                           "others are.",
            "operationId": "receiveCommands",
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "oneOf": [single, ref("UplinkBatch")]}}}},
            "responses": {
                "202": json_response(
                    "received (or received again): an acknowledgement, or for a batch one "
                    "item per command in request order",
                    {"oneOf": [ref("Acknowledgement"), ref("BatchAcknowledgement")]}),
                **errors({
                    400: BAD_JSON,
                    413: "the body is larger than the limit (MAX_BODY_BYTES for one "
                         "command, UPLINK_MAX_BODY_BYTES for a batch)",
                    415: NOT_JSON,
                    422: f"one command: a field is wrong or {refused}; a batch: the envelope "
                         f"is wrong (not 1 to {batch_max} objects, an item's fields, "
                         "duplicate ids), nothing stored"}),
            },
        }},
        "/commands/query": {"post": {
            "summary": "The state of many commands in one call; read only",
            "description": f"1 to {batch_max} ids; the known ones are reported in request "
                           "order, the others listed as unknown.",
            "operationId": "queryCommands",
            "requestBody": {"required": True, "content": {
                "application/json": {"schema": ref("UplinkQuery")}}},
            "responses": {
                "200": json_response("the known commands and the unknown ids", "QueryReport"),
                **errors({400: BAD_JSON,
                          413: "the body is larger than UPLINK_MAX_BODY_BYTES",
                          415: NOT_JSON,
                          422: f"not a list of 1 to {batch_max} valid ids"}),
            },
        }},
        "/commands/{command_id}": {"get": {
            "summary": "A command's state on the target; read only",
            "description": "Never executes anything. (A command whose id is `query` is read "
                           "with POST /commands/query.)",
            "operationId": "getCommand",
            "parameters": [command_id],
            "responses": {"200": json_response("the command", "CommandReport"),
                          **errors({404: "no command with this id was received"})},
        }},
    }


def keyed(described: dict[str, Any]) -> dict[str, Any]:
    """Every /commands operation needs the uplink key (401 without); the others keep the
    security they state, else are open."""
    described["components"].setdefault("securitySchemes", {})[KEY_SCHEME] = SECURITY_SCHEME
    for path, operations in described["paths"].items():
        for operation in operations.values():
            if path.startswith("/commands"):
                operation["security"] = [{KEY_SCHEME: []}]
                operation["responses"]["401"] = error(UNAUTHORIZED)
            else:
                operation.setdefault("security", [])
    return described
