"""The two-person approval and command-authority part of ground's OpenAPI document (merged in
openapi.py)."""

from __future__ import annotations

from typing import Any

from mission_control.openapi import error, errors, json_content, json_response

from .approval_schemas import ControlList, ControlOut, ControlRequest, ControlState, Rejection

MODELS = (Rejection, ControlRequest, ControlOut, ControlState, ControlList)
ROLES = {("post", "/api/telecommands/{command_id}/approve"): "operator",
         ("post", "/api/telecommands/{command_id}/reject"): "operator",
         ("post", "/api/targets/{target_id}/control"): "operator",
         ("delete", "/api/targets/{target_id}/control"): "operator"}
COMMAND_ID = {"name": "command_id", "in": "path", "required": True,
              "schema": {"type": "string", "format": "uuid"}}
TARGET_ID = {"name": "target_id", "in": "path", "required": True,
             "schema": {"type": "string", "maxLength": 64}}
BODY_ERRORS = {400: "malformed JSON", 413: "body too large", 415: "not application/json"}
NOT_AWAITING = "`not_awaiting_approval`: the command is no longer AWAITING_APPROVAL (`status` " \
               "says what it is)"


def paths() -> dict[str, Any]:
    command = json_response("the command as it is now, with its history", "TelecommandOut")
    return {
        "/api/telecommands/{command_id}/approve": {"post": {
            "summary": "Approve a command AWAITING_APPROVAL: it becomes READY (two-person rule: "
                       "another operator or admin than its sender)",
            "operationId": "approveTelecommand", "parameters": [COMMAND_ID],
            "responses": {"200": command, **errors({
                403: "`own_command`: the sender cannot approve their own command (or the "
                     "caller is a viewer)",
                404: "unknown or malformed id", 409: NOT_AWAITING})}}},
        "/api/telecommands/{command_id}/reject": {"post": {
            "summary": "Reject a command AWAITING_APPROVAL: it ends CANCELLED with the reason",
            "operationId": "rejectTelecommand", "parameters": [COMMAND_ID],
            "requestBody": {"required": True, **json_content("Rejection")},
            "responses": {"200": command, **errors({
                **BODY_ERRORS, 404: "unknown or malformed id", 409: NOT_AWAITING,
                422: "a field is wrong"})}}},
        "/api/targets/{target_id}/control": {
            "post": {
                "summary": "Take exclusive control of a target (a robot's covers its "
                           "modules); its holder renews it the same way",
                "operationId": "takeControl", "parameters": [TARGET_ID],
                "requestBody": {"required": False, **json_content("ControlRequest")},
                "responses": {"200": json_response("the control held", "ControlOut"), **errors({
                    **BODY_ERRORS, 404: "unknown target",
                    409: "`controlled`: another user holds it (`holder`, `expires_at`)",
                    422: "a field is wrong"})}},
            "delete": {
                "summary": "Release control (its holder), or break another user's (an admin)",
                "operationId": "releaseControl", "parameters": [TARGET_ID],
                "responses": {"204": {"description": "released"}, **errors({
                    403: "`not_holder`: another user holds it", 404: "unknown target, or "
                    "nobody controls it (`not_controlled`)"})}},
            "get": {
                "summary": "Who controls a target now (or the robot it belongs to)",
                "operationId": "getControl", "parameters": [TARGET_ID],
                "responses": {"200": json_response("the control, or null", "ControlState"),
                              "404": error("unknown target")}},
        },
        "/api/controls": {"get": {
            "summary": "Every running control of a target",
            "operationId": "listControls",
            "responses": {"200": json_response("the controls", "ControlList")}}},
    }
