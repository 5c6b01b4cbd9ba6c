"""The contact-window part of ground's OpenAPI document (merged in openapi.py)."""

from __future__ import annotations

from typing import Any

from mission_control.openapi import errors, json_content, json_response

from .passes_schemas import PassesOut, PassIn, PassList, PassOut

MODELS = (PassIn, PassList, PassOut, PassesOut)
ROLES = {("put", "/api/targets/{target_id}/passes"): "admin"}
TARGET = {"name": "target_id", "in": "path", "required": True,
          "schema": {"type": "string", "maxLength": 64}}


def paths() -> dict[str, Any]:
    return {"/api/targets/{target_id}/passes": {
        "get": {"summary": "A target's contact windows, earliest first, and the next one",
                "operationId": "listPasses", "parameters": [TARGET],
                "responses": {"200": json_response("the passes", "PassesOut"),
                              **errors({404: "unknown target"})}},
        "put": {"summary": "Replace a target's contact windows: its commands are then "
                           "transmitted only inside one",
                "operationId": "putPasses", "parameters": [TARGET],
                "requestBody": {"required": True, **json_content("PassList")},
                "responses": {"200": json_response("the passes now stored", "PassesOut"),
                              **errors({400: "malformed JSON", 404: "unknown target",
                                        413: "body above 256 KiB", 415: "not application/json",
                                        422: "a pass is wrong: end_at not after start_at, "
                                             "overlapping passes, a year outside 2000-2099, "
                                             "or more than 1000 passes"})}},
    }}
