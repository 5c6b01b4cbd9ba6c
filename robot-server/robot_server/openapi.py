"""The OpenAPI 3.1 document of robot-server, built from the models that validate and answer."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from mission_control.openapi import REFERENCES, components, document, errors, json_response, ref

from .schemas import Heartbeat, HeartbeatOut, RobotProfile, SessionOut, SessionRequest

SCHEME = "robotSession"
ROBOT_ID = {"name": "robot_id", "in": "path", "required": True,
            "description": "the robot's id in the registry (a UUID; anything else is 404)",
            "schema": {"type": "string"}}
BODY_ERRORS = {400: "the body is not valid JSON", 413: "the body is larger than MAX_BODY_BYTES",
               415: "the body is not application/json"}
NO_SESSION = "no bearer token, or one unknown, expired or closed (WWW-Authenticate: Bearer)"
OTHER_ROBOT = "the token is another robot's"
UNKNOWN = "no robot with this id, or a malformed id"


@lru_cache(maxsize=1)
def openapi_document() -> dict[str, Any]:
    description = ("The fleet hub robots talk to: a robot opens a session with its password, "
                   "then sends heartbeats with its bearer token. Commands to robots, long "
                   "polls, robot-client and the fleet view are not built yet.")
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
                              429: "too many wrong passwords for this robot (Retry-After)",
                              503: "too many password checks at once (Retry-After)"}),
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
    }
    schemas = components((SessionRequest, SessionOut, Heartbeat, HeartbeatOut, RobotProfile))
    # A module id must name one of this robot's modules, which no schema can say (422).
    schemas["ModuleStatus"]["properties"]["module_id"][REFERENCES] = "modules"
    described = document("robot-server", description, paths, schemas)
    described["components"]["securitySchemes"] = {SCHEME: {
        "type": "http", "scheme": "bearer",
        "description": "the token of POST /robots/{robot_id}/session"}}
    described["paths"]["/health"]["get"]["security"] = []
    return described
