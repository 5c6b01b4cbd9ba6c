"""The command stacks part of ground's OpenAPI document (merged in openapi.py)."""

from __future__ import annotations

from typing import Any

from mission_control.catalog import CATALOG, CommandSpec
from mission_control.openapi import (
    REFERENCES, error, errors, json_content, json_response, query_parameters, ref, schema_of,
)

from .stack_schemas import (
    NewStack, NewStackStep, Progress, StackOut, StackPage, StackQuery, StackStepOut,
)

MODELS = (Progress, StackOut, StackPage, StackStepOut)
ROLES = {("post", "/api/stacks"): "operator",
         ("post", "/api/stacks/{stack_id}/cancel"): "operator"}
ID = {"name": "stack_id", "in": "path", "required": True,
      "schema": {"type": "string", "format": "uuid"}}


def _step(spec: CommandSpec, fields: dict[str, Any]) -> dict[str, Any]:
    """One step's body for one command of the catalog (its args' schema is a component of
    the telecommand bodies already)."""
    required = ["command_name", "wait_for"]
    if spec.args.model_json_schema().get("required"):
        required.append("args")
    fields = dict(fields)
    if not any(spec.name in CATALOG[kind] for kind in CATALOG if kind != "module"):
        required.append("module_id")  # a module's command: a string, not null
        strings = [b for b in fields["module_id"].get("anyOf", []) if b.get("type") == "string"]
        fields["module_id"] = {**{k: v for k, v in fields["module_id"].items()
                                  if k not in ("anyOf", "default")}, **strings[0]}
    confirm = {"type": "boolean", "default": False}
    if spec.hazardous:
        required.append("confirm")
        confirm = {"const": True, "description": "hazardous: the step must confirm it"}
    return {"type": "object", "title": f"Step {spec.name}", "additionalProperties": False,
            "required": required,
            "properties": {**fields, "command_name": {"const": spec.name},
                           "args": ref(spec.args.__name__), "confirm": confirm}}


def schemas() -> dict[str, Any]:
    """NewStack, its steps one body per command of the catalog (as NewTelecommand's)."""
    fields = schema_of(NewStackStep)["properties"]
    fields["module_id"] = {**fields["module_id"], REFERENCES: "a module of the stack's target"}
    specs = {name: spec for commands in CATALOG.values() for name, spec in commands.items()}
    found = {f"Step_{name}": _step(spec, fields) for name, spec in specs.items()}
    stack = schema_of(NewStack)
    stack["properties"]["target"] = {**stack["properties"]["target"],
                                     REFERENCES: "a target (GET /api/targets)"}
    stack["properties"]["steps"] = {**stack["properties"]["steps"],
                                    "items": ref("NewStackStep")}
    stack.pop("$defs", None)
    return {**found, "NewStackStep": {"type": "object", "description": "One step: a command "
                                      "its stack's target knows, and the stage to wait for",
                                      "oneOf": [ref(name) for name in found]},
            "NewStack": stack}


def paths() -> dict[str, Any]:
    return {
        "/api/stacks": {
            "post": {
                "summary": "Create a command stack: its steps are sent one after another, each "
                           "once the previous one reached its wait_for stage (plus delay_s)",
                "description": "Every step is checked against the target's catalog first; a "
                               "refused step answers 422 with `step`, its index in `steps`. "
                               "The first step's command is created at once.",
                "operationId": "createStack",
                "requestBody": {"required": True, **json_content("NewStack")},
                "responses": {
                    "201": json_response("created, with its steps", "StackOut"),
                    **errors({400: "malformed JSON", 413: "body too large",
                              415: "not application/json",
                              422: "a field is wrong (`fields`); the target or a step's module "
                                   "does not exist (`unknown_target`); a step's command or "
                                   "args are refused, or it is hazardous without confirm "
                                   "(`invalid_command`); `step` names the step"})},
            },
            "get": {
                "summary": "List stacks, newest first, with their progress",
                "operationId": "listStacks",
                "parameters": query_parameters(StackQuery),
                "responses": {"200": json_response("a page", "StackPage"),
                              "422": error("bad query parameter")},
            },
        },
        "/api/stacks/{stack_id}": {"get": {
            "summary": "One stack: status, progress and each step's command and status",
            "operationId": "getStack", "parameters": [ID],
            "responses": {"200": json_response("found", "StackOut"),
                          "404": error("unknown or malformed id")}}},
        "/api/stacks/{stack_id}/cancel": {"post": {
            "summary": "Cancel a RUNNING stack: its READY step is cancelled and the steps not "
                       "created yet are skipped",
            "operationId": "cancelStack", "parameters": [ID],
            "responses": {"200": json_response("cancelled", "StackOut"),
                          **errors({404: "unknown or malformed id",
                                    409: "the stack is final already; `status` says which"})}}},
    }
