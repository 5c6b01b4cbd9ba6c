"""The fleet-wide commands part of ground's OpenAPI document (merged in openapi.py)."""

from __future__ import annotations

from typing import Any

from mission_control.catalog import CATALOG
from mission_control.openapi import (
    REFERENCES, error, errors, json_content, json_response, query_parameters, ref, schema_of,
)

from .batch_schemas import (
    BatchCreated, BatchOut, BatchPage, BatchQuery, FailedCommand, NewBatch,
)

MODELS = (BatchCreated, FailedCommand, BatchOut, BatchPage)
KINDS = ("robot", "module")
ROLES = {("post", "/api/batches"): "operator",
         ("post", "/api/batches/{batch_id}/approve"): "operator",
         ("post", "/api/batches/{batch_id}/cancel"): "operator"}
ID = {"name": "batch_id", "in": "path", "required": True,
      "schema": {"type": "string", "format": "uuid"}}


def schemas() -> dict[str, Any]:
    """NewBatch as one body per command robots or modules accept (the argument schemas are
    the telecommand bodies' components), exactly one of targets and selector in each."""
    model = schema_of(NewBatch)
    found: dict[str, Any] = {}
    fields = model["properties"]
    for name, what in (("targets", "robots or modules (GET /api/targets)"),
                       ("selector", "robots of the registry (an empty selection is refused)")):
        fields[name] = {**fields[name], REFERENCES: what}
    for kind in KINDS:
        for name, spec in CATALOG[kind].items():
            confirm = {"const": True, "description": "hazardous: the body must confirm it"} \
                if spec.hazardous else {"type": "boolean", "default": False}
            required = ["command_name", *(["confirm"] if spec.hazardous else []),
                        *(["args"] if spec.args.model_json_schema().get("required") else [])]
            found.setdefault(f"Batch_{name}", {
                "type": "object", "title": name, "description": spec.description,
                "additionalProperties": False, "required": required,
                "properties": {**fields, "command_name": {"const": name},
                               "args": ref(spec.args.__name__), "confirm": confirm},
                "oneOf": [{"required": ["targets"],
                           "properties": {"targets": {"type": "array"}}},
                          {"required": ["selector"],
                           "properties": {"selector": {"type": "object"}}}]})
    kinds = "; ".join(f"{kind}: {', '.join(CATALOG[kind])}" for kind in KINDS)
    return {**model.pop("$defs", {}), **found, "NewBatch": {
        "type": "object", "description": "A fleet-wide command: one of the catalog's robot or "
                                         f"module commands. By target kind: {kinds}",
        "oneOf": [ref(name) for name in found]}}


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
        "/api/batches/{batch_id}/approve": {"post": {
            "summary": "Approve every command of the batch still AWAITING_APPROVAL: they become "
                       "READY together (two-person rule: another operator or admin than the "
                       "batch's sender)",
            "operationId": "approveBatch", "parameters": [ID],
            "responses": {"200": {"description": "approved: `{\"id\", \"approved\": n}`",
                                  "content": {"application/json": {"schema": {
                                      "type": "object", "required": ["id", "approved"],
                                      "properties": {"id": {"type": "string"},
                                                     "approved": {"type": "integer"}}}}}},
                          "403": error("`own_command`: the batch's sender cannot approve it"),
                          "404": error("unknown or malformed id"),
                          "409": error("`not_awaiting_approval`: none of its commands awaits "
                                       "approval")}}},
        "/api/batches/{batch_id}/cancel": {"post": {
            "summary": "Cancel every command of the batch not transmitted yet (READY or "
                       "AWAITING_APPROVAL); those already transmitted run to their end",
            "operationId": "cancelBatch", "parameters": [ID],
            "responses": {"200": {"description": "`{\"id\", \"cancelled\": n}` (0 when "
                                                 "nothing was left to cancel)",
                                  "content": {"application/json": {"schema": {
                                      "type": "object", "required": ["id", "cancelled"],
                                      "properties": {"id": {"type": "string"},
                                                     "cancelled": {"type": "integer"}}}}}},
                          "404": error("unknown or malformed id")}}},
    }
