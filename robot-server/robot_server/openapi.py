"""The OpenAPI 3.1 document of robot-server, built from the models that validate and answer."""

from __future__ import annotations

import copy
from functools import lru_cache
from typing import Any

from mission_control.openapi import (
    REFERENCES, components, document, errors, json_response, query_parameters, ref,
)
from mission_control.uplink_openapi import keyed, uplink_components, uplink_paths

from .schemas import (
    AckOut, Heartbeat, HeartbeatOut, PollOut, PollQuery, ProgressOut, ProgressRequest,
    ResultRequest, RobotProfile, SessionOut, SessionRequest,
)

SCHEME = "robotSession"
ROBOT_ID = {"name": "robot_id", "in": "path", "required": True,
            "description": "the robot's id in the registry (a UUID; anything else is 404)",
            "schema": {"type": "string"}}
BODY_ERRORS = {400: "the body is not valid JSON", 413: "the body is larger than MAX_BODY_BYTES",
               415: "the body is not application/json"}
NO_SESSION = "no bearer token, or one unknown, expired or closed (WWW-Authenticate: Bearer)"
OTHER_ROBOT = "the token is another robot's"
UNKNOWN = "no robot with this id, or a malformed id"
COMMAND_ID = {"name": "command_id", "in": "path", "required": True,
              "description": "the command's id, as the poll gave it",
              "schema": {"type": "string"}}
NO_COMMAND = "no robot with this id, or the robot has no command with this id"


def _robot_call(summary: str, operation_id: str, responses: dict[str, Any],
                parameters: list[dict[str, Any]], body: str | None = None) -> dict[str, Any]:
    """An operation of a robot's session (bearer token of POST /robots/{id}/session)."""
    operation: dict[str, Any] = {"summary": summary, "operationId": operation_id,
                                 "security": [{SCHEME: []}], "parameters": parameters,
                                 "responses": responses}
    if body is not None:
        operation["requestBody"] = {"required": True, "content": {
            "application/json": {"schema": ref(body)}}}
    return operation


def _command_paths() -> dict[str, Any]:
    """The robot's side of its commands: poll, acknowledge, report the result."""
    return {
        "/robots/{robot_id}/commands": {"get": _robot_call(
            "The robot's pending commands (a long poll)", "pollCommands",
            {"200": json_response("the RECEIVED, unexpired commands in received order "
                                  "(at most 100), or none when none came within wait",
                                  "PollOut"),
             **errors({401: NO_SESSION, 403: OTHER_ROBOT, 404: UNKNOWN,
                       422: "wait is not a number of seconds from 0 to 30, or another "
                            "parameter was given"})},
            [ROBOT_ID, *query_parameters(PollQuery)])},
        "/robots/{robot_id}/commands/{command_id}/ack": {"post": _robot_call(
            "Start a command: RECEIVED -> EXECUTING, at most once", "acknowledgeCommand",
            {"200": json_response("started: execute it now", "AckOut"),
             **errors({401: NO_SESSION, 403: OTHER_ROBOT, 404: NO_COMMAND,
                       409: "already_acknowledged, finished or expired (with its state): "
                            "do not execute it"})},
            [ROBOT_ID, COMMAND_ID])},
        "/robots/{robot_id}/commands/{command_id}/result": {"post": _robot_call(
            "How a started command ended", "reportResult",
            {"200": json_response("recorded: the command's report", "CommandReport"),
             **errors({**BODY_ERRORS, 401: NO_SESSION, 403: OTHER_ROBOT, 404: NO_COMMAND,
                       409: "not EXECUTING: not_acknowledged or finished (with its state)",
                       422: "a field is wrong, or module_status for a command that is not "
                            "a module's"})},
            [ROBOT_ID, COMMAND_ID], "ResultRequest")},
        "/robots/{robot_id}/commands/{command_id}/progress": {"post": _robot_call(
            "How far a started command got (docs/progress.md)", "reportProgress",
            {"200": json_response("the stored progress; recorded false: dropped, a report "
                                  "of the same phase came less than a second ago",
                                  "ProgressOut"),
             **errors({**BODY_ERRORS, 401: NO_SESSION, 403: OTHER_ROBOT, 404: NO_COMMAND,
                       409: "not EXECUTING: not_acknowledged or finished (with its state)",
                       422: "a field is wrong (percent 0 to 100, done above total, a phase "
                            "with control characters or too long)"})},
            [ROBOT_ID, COMMAND_ID], "ProgressRequest")},
    }


def _robot_uplink_request(schemas: dict[str, Any]) -> dict[str, Any]:
    """The single form on robot-server: a command naming its robot (``target``) and maybe
    one of its modules; which ids exist no schema can say (422 naming the field)."""
    single = copy.deepcopy(schemas["UplinkRequest"])
    properties = single["properties"]
    properties["target"] = {**next(o for o in properties["target"].pop("anyOf")
                                   if o["type"] == "string"), **properties["target"],
                            REFERENCES: "robots"}
    properties["target"].pop("default", None)
    properties["module_id"] = {**properties["module_id"], REFERENCES: "modules"}
    single.update(title="RobotCommand", required=[*single["required"], "target"])
    return single


@lru_cache(maxsize=4)
def openapi_document(batch_max: int = 500) -> dict[str, Any]:
    description = ("The fleet hub robots talk to: a robot opens a session with its password, "
                   "then sends heartbeats, polls for its commands, acknowledges each (it runs "
                   "at most once) and reports its result, with its bearer token. The "
                   "/commands routes are the uplink protocol for robots and their modules "
                   "(the uplink key; the command-sender only). The robots' side is "
                   "robot-client (docs/robot-client.md).")
    paths = {
        "/robots/{robot_id}/session": {
            "post": {
                "summary": "Open a session with the robot's password",
                "operationId": "openSession", "security": [],
                "parameters": [ROBOT_ID],
                "requestBody": {"required": True, "content": {
                    "application/json": {"schema": ref("SessionRequest")}}},
                "responses": {
                    "201": json_response("the session's token", "SessionOut"),
                    **errors({**BODY_ERRORS, 401: "wrong password (or the robot has none)",
                              404: UNKNOWN, 422: "a field is wrong",
                              429: "too many wrong passwords for this robot (throttled), or "
                                   "too many password checks at once (busy); Retry-After"}),
                }},
            "delete": {
                "summary": "Close the session: the token stops working, the robot is offline",
                "operationId": "closeSession", "security": [{SCHEME: []}],
                "parameters": [ROBOT_ID],
                "responses": {"204": {"description": "closed (a disconnect event if it was "
                                                     "online)"},
                              **errors({401: NO_SESSION, 403: OTHER_ROBOT, 404: UNKNOWN})},
            }},
        "/robots/{robot_id}": {"get": {
            "summary": "The session's robot: its address for modules, and its modules",
            "operationId": "robotProfile", "security": [{SCHEME: []}],
            "parameters": [ROBOT_ID],
            "responses": {
                "200": json_response("the robot and its modules", "RobotProfile"),
                **errors({401: NO_SESSION, 403: OTHER_ROBOT, 404: UNKNOWN}),
            }}},
        "/robots/{robot_id}/heartbeat": {"post": {
            "summary": "The robot's status, its modules' statuses and its telemetry",
            "operationId": "heartbeat", "security": [{SCHEME: []}],
            "parameters": [ROBOT_ID],
            "requestBody": {"required": True, "content": {
                "application/json": {"schema": ref("Heartbeat")}}},
            "responses": {
                "200": json_response("recorded; the robot is online", "HeartbeatOut"),
                **errors({**BODY_ERRORS, 401: NO_SESSION, 403: OTHER_ROBOT, 404: UNKNOWN,
                          422: "a field is wrong, or a module is not this robot's (named); "
                               "nothing written"}),
            }}},
        **_command_paths(),
    }
    schemas = components((SessionRequest, SessionOut, Heartbeat, HeartbeatOut, PollOut, AckOut,
                          ResultRequest, ProgressRequest, ProgressOut, RobotProfile),
                         uplink_components(batch_max))
    schemas["RobotCommand"] = _robot_uplink_request(schemas)
    refused = ("it names no robot or module of that robot (unknown_target, naming target or "
               "module_id) or the catalog of its kind refuses it (invalid_command; a hazardous "
               "command without confirmed_by too)")
    paths.update(uplink_paths(batch_max, ref("RobotCommand"), refused))
    # A module id must name one of this robot's modules, which no schema can say (422).
    schemas["ModuleStatus"]["properties"]["module_id"][REFERENCES] = "modules"
    described = document("robot-server", description, paths, schemas)
    described["components"]["securitySchemes"] = {SCHEME: {
        "type": "http", "scheme": "bearer",
        "description": "the token of POST /robots/{robot_id}/session"}}
    return keyed(described)
