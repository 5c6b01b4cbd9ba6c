"""The limits and alerts part of ground's OpenAPI document (merged in openapi.py)."""

from __future__ import annotations

from typing import Any

from mission_control.openapi import error, errors, json_content, json_response, query_parameters

from .alert_schemas import (
    MAX_LIMITS, Acknowledgement, AlertOut, AlertPage, AlertQuery, LimitIn, LimitList, Shelving,
)

MODELS = (LimitIn, LimitList, AlertOut, AlertPage, Acknowledgement, Shelving)
ROLES = {("put", "/api/limits"): "admin",
         ("post", "/api/alerts/{alert_id}/acknowledge"): "operator",
         ("post", "/api/alerts/{alert_id}/resolve"): "operator",
         ("post", "/api/alerts/{alert_id}/shelve"): "operator"}
ID = {"name": "alert_id", "in": "path", "required": True,
      "schema": {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}}
BODY_ERRORS = {400: "malformed JSON", 413: "body too large", 415: "not application/json"}


def _alert_action(summary: str, operation_id: str, body: dict[str, Any] | None,
                  more: dict[int, str]) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": summary, "operationId": operation_id, "parameters": [ID],
        "responses": {"200": json_response("the alert as it is now", "AlertOut"),
                      **errors({404: "unknown or malformed id", **more})}}
    if body is not None:
        operation["requestBody"] = body
    return operation


def paths() -> dict[str, Any]:
    limits_body = {"oneOf": [{"$ref": "#/components/schemas/LimitIn"},
                             {"type": "array", "minItems": 1, "maxItems": MAX_LIMITS,
                              "items": {"$ref": "#/components/schemas/LimitIn"}}]}
    return {
        "/api/limits": {
            "get": {"summary": "The stored limits and the built-in defaults",
                    "operationId": "listLimits",
                    "responses": {"200": json_response("limits", "LimitList")}},
            "put": {"summary": "Write one limit or a list (each replaces the limit of its "
                               "source and parameter)",
                    "operationId": "putLimits",
                    "requestBody": {"required": True, **json_content(limits_body)},
                    "responses": {
                        "200": json_response("the limits written", {
                            "type": "object", "required": ["items"], "properties": {
                                "items": {"type": "array", "items": {
                                    "$ref": "#/components/schemas/LimitOut"}}}}),
                        **errors({**BODY_ERRORS, 422: "a field is wrong, the bounds are not "
                                  "ordered (red_low <= yellow_low <= yellow_high <= "
                                  "red_high), or a source and parameter appear twice"})}},
        },
        "/api/alerts": {"get": {
            "summary": "Alerts, newest first", "operationId": "listAlerts",
            "parameters": query_parameters(AlertQuery),
            "responses": {"200": json_response("a page", "AlertPage"),
                          "422": error("bad query parameter")}}},
        "/api/alerts/{alert_id}": {"get": {
            "summary": "One alert", "operationId": "getAlert", "parameters": [ID],
            "responses": {"200": json_response("found", "AlertOut"),
                          "404": error("unknown or malformed id")}}},
        "/api/alerts/{alert_id}/acknowledge": {"post": _alert_action(
            "Acknowledge an alert (again: harmless); a cleared one is resolved",
            "acknowledgeAlert", {"required": False, **json_content("Acknowledgement")},
            {**BODY_ERRORS, 422: "a field is wrong"})},
        "/api/alerts/{alert_id}/resolve": {"post": _alert_action(
            "Resolve an alert (again: harmless)", "resolveAlert", None, {})},
        "/api/alerts/{alert_id}/shelve": {"post": _alert_action(
            "Hide an active alert from the open list for a while; it comes back "
            "unacknowledged if still active", "shelveAlert",
            {"required": True, **json_content("Shelving")},
            {**BODY_ERRORS, 409: "the alert is resolved", 422: "a field is wrong"})},
    }
