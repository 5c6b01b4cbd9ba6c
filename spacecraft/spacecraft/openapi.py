"""The OpenAPI 3.1 document of the spacecraft, built from the models that validate and answer."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from pydantic import BaseModel

from mission_control.catalog import commands_for
from mission_control.web import ERROR_SCHEMA, schema_of

from .schemas import Acknowledgement, CommandReport, StateReport, UplinkRequest

MODELS: tuple[type[BaseModel], ...] = (UplinkRequest, Acknowledgement, CommandReport, StateReport)

ERRORS = {
    400: "the body is not valid JSON",
    404: "no command with this id was received",
    413: "the body is larger than the limit",
    415: "the body is not application/json",
    422: "a field is missing or wrong, or the command or its arguments are not in the catalog",
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    return {str(code): _json(_ref("Error"), ERRORS[code]) for code in codes}


def _components() -> dict[str, Any]:
    schemas: dict[str, Any] = {"Error": ERROR_SCHEMA}
    for model in MODELS:
        schema = schema_of(model)
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
    return schemas


@lru_cache(maxsize=1)
def openapi_document() -> dict[str, Any]:
    """The whole document; it never changes while the process runs."""
    command_names = ", ".join(sorted(commands_for("spacecraft")))
    command_id = {"name": "command_id", "in": "path", "required": True,
                  "schema": {"type": "string", "minLength": 1, "maxLength": 64}}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Spacecraft",
            "version": "0.1.0",
            "description": "The simulated spacecraft's side of the uplink protocol: it receives "
                           "commands, runs each at most once after a random delay, and may fail "
                           "them. Commands: " + command_names + ".",
        },
        "paths": {
            "/commands": {"post": {
                "summary": "Receive a command; idempotent on its id",
                "description": "A re-sent id is not stored or run again: its receipt count grows "
                               "and the answer is the acknowledgement of the first receipt.",
                "operationId": "receiveCommand",
                "requestBody": {"required": True, "content": {
                    "application/json": {"schema": _ref("UplinkRequest")}}},
                "responses": {"202": _json(_ref("Acknowledgement"), "received (or received again)"),
                              **_errors(400, 413, 415, 422)},
            }},
            "/commands/{command_id}": {"get": {
                "summary": "A command's state on board",
                "description": "A received command whose delay has passed is run first.",
                "operationId": "getCommand",
                "parameters": [command_id],
                "responses": {"200": _json(_ref("CommandReport"), "the command"),
                              **_errors(404)},
            }},
            "/state": {"get": {
                "summary": "The simulated spacecraft's state",
                "description": "Every received command whose delay has passed is run first, "
                               "oldest first.",
                "operationId": "getState",
                "responses": {"200": _json(_ref("StateReport"), "the state")},
            }},
            "/health": {"get": {
                "summary": "Liveness and database reachability",
                "operationId": "getHealth",
                "responses": {
                    "200": _json({"type": "object"}, "the service and its database answer"),
                    "503": _json(_ref("Error"), "the database is not reachable"),
                },
            }},
        },
        "components": {"schemas": _components()},
    }
