"""The OpenAPI 3.1 document of ground's telecommand API."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from mission_control.web import ERROR_SCHEMA, schema_of

from .schemas import NewTelecommand, TelecommandOut, TelecommandPage


def _json(ref: str) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}}}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, **_json("Error")}


ID = {"name": "command_id", "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}}
OPERATOR = {"name": "X-Operator", "in": "header", "required": False,
            "schema": {"type": "string", "minLength": 1, "maxLength": 100},
            "description": "who acts (recorded in the history); defaults to 'operator'"}


@lru_cache(maxsize=1)
def document() -> dict[str, Any]:
    schemas: dict[str, Any] = {"Error": ERROR_SCHEMA}
    for model in (NewTelecommand, TelecommandOut, TelecommandPage):
        schema = schema_of(model)
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
    return {
        "openapi": "3.1.0",
        "info": {"title": "Mission Control ground", "version": "0.1.0",
                 "description": "Issue telecommands and follow them to a final state."},
        "paths": {
            "/api/telecommands": {
                "post": {
                    "summary": "Accept a new telecommand",
                    "parameters": [OPERATOR, {
                        "name": "Idempotency-Key", "in": "header", "required": False,
                        "schema": {"type": "string", "minLength": 1, "maxLength": 200},
                        "description": "a retry with the same key returns the first command"}],
                    "requestBody": {"required": True, **_json("NewTelecommand")},
                    "responses": {
                        "201": {"description": "created (or replayed for a known Idempotency-Key)",
                                **_json("TelecommandOut")},
                        "400": _error("malformed JSON"),
                        "409": _error("Idempotency-Key reused for another command"),
                        "413": _error("body too large"),
                        "415": _error("not application/json"),
                        "422": _error("unknown command or target, bad args, hazardous without confirm"),
                    },
                },
                "get": {
                    "summary": "List telecommands, newest first",
                    "parameters": [
                        {"name": "status", "in": "query", "schema": {
                            "type": "string", "enum": list(TelecommandOut.model_fields["status"]
                                                           .annotation.__members__)}},
                        {"name": "target", "in": "query", "schema": {"type": "string"}},
                        {"name": "limit", "in": "query",
                         "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 50}},
                        {"name": "offset", "in": "query",
                         "schema": {"type": "integer", "minimum": 0, "default": 0}},
                    ],
                    "responses": {"200": {"description": "a page", **_json("TelecommandPage")},
                                  "422": _error("bad query parameter")},
                },
            },
            "/api/telecommands/{command_id}": {
                "get": {
                    "summary": "One telecommand with its history",
                    "parameters": [ID],
                    "responses": {"200": {"description": "found", **_json("TelecommandOut")},
                                  "404": _error("unknown or malformed id")},
                },
            },
            "/api/telecommands/{command_id}/cancel": {
                "put": {
                    "summary": "Cancel a READY telecommand",
                    "parameters": [ID, OPERATOR],
                    "responses": {"200": {"description": "cancelled", **_json("TelecommandOut")},
                                  "404": _error("unknown or malformed id"),
                                  "409": _error("not READY; the body's status says what it is"),
                                  "422": _error("bad X-Operator header")},
                },
            },
            "/api/catalog": {"get": {"summary": "Commands per target kind",
                                     "responses": {"200": {"description": "the catalog"}}}},
            "/api/targets": {"get": {"summary": "Known targets",
                                     "responses": {"200": {"description": "targets"}}}},
            "/api/workers": {"get": {
                "summary": "Command-senders seen lately: running, stopped, or lost (no heartbeat)",
                "responses": {"200": {"description": "workers and how many are running"}}}},
            "/health": {"get": {"summary": "Service and database health",
                                "responses": {"200": {"description": "healthy"},
                                              "503": _error("database unreachable")}}},
        },
        "components": {"schemas": schemas},
    }
