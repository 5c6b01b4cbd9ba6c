"""The OpenAPI 3.1 document of the spacecraft, built from the models that validate and answer.

The single form of POST /commands is documented command by command from the catalog (name
and argument schema, and confirmed_by required for a hazardous one), so a request the document
calls valid is one the spacecraft accepts. The uplink routes need the uplink key (a bearer
scheme, ``uplinkKey``); /state and /health are open.
Items of a batch are documented with the looser UplinkRequest: the catalog refuses an item in
the answer (acknowledged: false), not with an error for the whole call.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from pydantic import BaseModel

from mission_control.catalog import CommandSpec, commands_for
from mission_control.openapi import components, document, error, errors, json_response, ref

from mission_control.uplink_schemas import (
    Acknowledgement, BatchAcknowledgement, CommandReport, QueryReport, Refusal, UplinkBatch,
    UplinkQuery, UplinkRequest,
)

from .schemas import StateReport

MODELS: tuple[type[BaseModel], ...] = (UplinkRequest, UplinkBatch, UplinkQuery, Acknowledgement,
                                       Refusal, BatchAcknowledgement, CommandReport, QueryReport,
                                       StateReport)

BAD_JSON = "the body is not valid JSON"
KEY_SCHEME = "uplinkKey"
SECURITY_SCHEMES = {KEY_SCHEME: {
    "type": "http", "scheme": "bearer",
    "description": "UPLINK_KEY, the key the command-sender holds (env UPLINK_KEY, else the "
                   "checkout's var/uplink-key). Only ground commands the spacecraft."}}
UNAUTHORIZED = "no Authorization: Bearer <UPLINK_KEY>, or another key (WWW-Authenticate: Bearer)"
NOT_JSON = "the body is not application/json"


def _command_variant(spec: CommandSpec, request: dict[str, Any]) -> dict[str, Any]:
    """The single form for one catalog command: its name, and its arguments' schema."""
    properties = dict(request["properties"])
    properties["command_name"] = {"type": "string", "const": spec.name,
                                  "description": spec.description}
    required = ["id", "command_name"]
    if spec.hazardous:
        confirmed_by = dict(request["properties"]["confirmed_by"])
        properties["confirmed_by"] = {**next(o for o in confirmed_by.pop("anyOf")
                                             if o["type"] == "string"), **confirmed_by}
        properties["confirmed_by"].pop("default", None)
        required.append("confirmed_by")
    args = ref(spec.args.__name__)
    if spec.args.model_json_schema().get("required"):
        properties["args"] = args
        required.append("args")
    else:
        properties["args"] = {"anyOf": [args, {"type": "null"}],
                              "description": "no arguments: omit, null or {}"}
    return {"type": "object", "title": spec.name, "required": required,
            "properties": properties, "not": {"required": ["commands"]}}


def _components(batch_max: int) -> dict[str, Any]:
    schemas = components(MODELS)
    schemas["UplinkBatch"]["properties"]["commands"]["maxItems"] = batch_max
    schemas["UplinkQuery"]["properties"]["ids"]["maxItems"] = batch_max
    catalog = commands_for("spacecraft")
    variants = []
    for spec in catalog.values():
        schemas.setdefault(spec.args.__name__, spec.args.model_json_schema())
        schemas[f"Command_{spec.name}"] = _command_variant(spec, schemas["UplinkRequest"])
        variants.append(ref(f"Command_{spec.name}"))
    schemas["CatalogCommand"] = {
        "description": "One command of the spacecraft catalog, its arguments as the catalog "
                       "defines them.",
        "type": "object",
        "properties": {"command_name": {"type": "string", "enum": sorted(catalog)}},
        "oneOf": variants,
    }
    return schemas


@lru_cache(maxsize=4)
def openapi_document(batch_max: int = 500) -> dict[str, Any]:
    """The whole document for a given UPLINK_BATCH_MAX; it never changes while the process
    runs."""
    command_names = ", ".join(sorted(commands_for("spacecraft")))
    command_id = {"name": "command_id", "in": "path", "required": True,
                  "schema": {"type": "string", "minLength": 1, "maxLength": 64,
                             "pattern": r"^[^\x00-\x1f\x7f]+$"}}
    description = ("The simulated spacecraft's side of the uplink protocol: it receives "
                   "commands, one or a batch at a time, and its executor runs each at most once "
                   "after a random delay, on its own clock, and may fail it. Reads never "
                   "execute anything. The /commands routes need the uplink key (only ground "
                   "commands the spacecraft); a hazardous command names who confirmed it on "
                   "ground in confirmed_by. Commands: " + command_names + ".")
    paths = {
        "/commands": {"post": {
            "summary": "Receive a command or a batch of commands; idempotent per id",
            "description": "A body with a `commands` field is a batch of 1 to "
                           f"{batch_max} commands with distinct ids; anything else is one "
                           "command. A re-sent id is not stored or run again: its receipt "
                           "count grows and its acknowledgement is the first receipt's "
                           "(with the current state). In a batch, a command the catalog "
                           "refuses is answered `acknowledged: false` and not stored; the "
                           "others are.",
            "operationId": "receiveCommands",
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "oneOf": [ref("CatalogCommand"), ref("UplinkBatch")]}}}},
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
                    422: "one command: a field is wrong or the catalog refuses it "
                         "(error invalid_command; a hazardous command without confirmed_by "
                         "too, naming that field); a batch: the envelope is wrong (not "
                         f"1 to {batch_max} objects, an item's fields, duplicate ids), "
                         "nothing stored"}),
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
            "summary": "A command's state on board; read only",
            "description": "Never executes anything: the executor runs commands when "
                           "their time comes. (A command whose id is `query` is read with "
                           "POST /commands/query.)",
            "operationId": "getCommand",
            "parameters": [command_id],
            "responses": {"200": json_response("the command", "CommandReport"),
                          **errors({404: "no command with this id was received"})},
        }},
        "/state": {"get": {
            "summary": "The simulated spacecraft's state; read only",
            "description": "What the commands executed so far made of it.",
            "operationId": "getState",
            "responses": {"200": json_response("the state", "StateReport")},
        }},
    }
    return _keyed(document("Spacecraft", description, paths, _components(batch_max)))


def _keyed(described: dict[str, Any]) -> dict[str, Any]:
    """Every /commands operation needs the uplink key (401 without); the rest is open."""
    described["components"]["securitySchemes"] = SECURITY_SCHEMES
    for path, operations in described["paths"].items():
        for operation in operations.values():
            if path.startswith("/commands"):
                operation["security"] = [{KEY_SCHEME: []}]
                operation["responses"]["401"] = error(UNAUTHORIZED)
            else:
                operation["security"] = []
    return described
