"""The command stacks part of ground's OpenAPI document (merged in openapi.py)."""

from __future__ import annotations

from typing import Any

from mission_control.openapi import error, errors, json_content, json_response, query_parameters

from .stack_schemas import (
    NewStack, NewStackStep, Progress, StackOut, StackPage, StackQuery, StackStepOut,
)

MODELS = (NewStack, NewStackStep, Progress, StackOut, StackPage, StackStepOut)
ROLES = {("post", "/api/stacks"): "operator",
         ("post", "/api/stacks/{stack_id}/cancel"): "operator"}
ID = {"name": "stack_id", "in": "path", "required": True,
      "schema": {"type": "string", "format": "uuid"}}


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
