"""The fleet-wide commands part of ground's OpenAPI document (merged in openapi.py)."""

from __future__ import annotations

from typing import Any

from mission_control.openapi import error, errors, json_content, json_response, query_parameters

from .batch_schemas import (
    BatchCreated, BatchOut, BatchPage, BatchQuery, FailedCommand, NewBatch,
)

MODELS = (NewBatch, BatchCreated, FailedCommand, BatchOut, BatchPage)
ROLES = {("post", "/api/batches"): "operator"}
ID = {"name": "batch_id", "in": "path", "required": True,
      "schema": {"type": "string", "format": "uuid"}}


def paths() -> dict[str, Any]:
    return {
        "/api/batches": {
            "post": {
                "summary": "Send one command to many robots or modules (a fleet-wide command)",
                "description": "Either `targets` (robot or module ids; a module's command goes "
                               "to its robot, for the module) or `selector` (every robot on a "
                               "level, project or workspace, with a status, online or offline; "
                               "`module`: each selected robot's module of that name). One "
                               "READY telecommand per target, grouped in a batch. All or "
                               "nothing: an unknown or removed target, a command a target's "
                               "kind does not accept, an id named twice, an empty selection "
                               "or more than BATCH_MAX_TARGETS targets is a 422 "
                               "(`batch_refused`) whose `offending` lists each id and why; "
                               "nothing is created then.",
                "operationId": "createBatch",
                "requestBody": {"required": True, **json_content("NewBatch")},
                "responses": {
                    "201": {**json_response("created", "BatchCreated"),
                            "headers": {"Location": {"description": "URL of the batch",
                                                     "schema": {"type": "string"}}}},
                    **errors({400: "malformed JSON", 413: "body too large",
                              415: "not application/json",
                              422: "a field is wrong (`fields`), or the batch is refused "
                                   "(`batch_refused`, `offending`: [{id, reason}])"}),
                },
            },
            "get": {
                "summary": "Batches, newest first, each with its roll-up",
                "operationId": "listBatches",
                "parameters": query_parameters(BatchQuery),
                "responses": {"200": json_response("a page", "BatchPage"),
                              "422": error("bad query parameter")},
            },
        },
        "/api/batches/{batch_id}": {"get": {
            "summary": "One batch's roll-up: its telecommands by status, the failed ones with "
                       "their reasons, whether every one is final",
            "operationId": "getBatch", "parameters": [ID],
            "responses": {"200": json_response("found", "BatchOut"),
                          "404": error("unknown or malformed id")}}},
    }
