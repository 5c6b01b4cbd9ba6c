"""The OpenAPI 3.1 document of the registry, built from the same models that validate requests."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from pydantic import BaseModel

from mission_control.auth_openapi import secured
from mission_control.openapi import (
    REFERENCES, components, document as openapi_document, error, errors, json_content,
    json_response, query_parameter, query_parameters, ref,
)

from .resources import RESOURCES, Resource, list_query_model
from .schemas import EventPage, EventQuery, VerifyPassword

PREFIX = "/api/v1"

BODY_ERRORS = errors({
    400: "malformed JSON",
    413: "body larger than MAX_BODY_BYTES",
    415: "body not sent as application/json",
    422: "invalid fields, one message per field in `fields`",
})
NOT_FOUND = errors({404: "unknown or malformed id"})
ID = {"name": "item_id", "in": "path", "required": True,
      "schema": {"type": "string", "format": "uuid"}}


def _list_parameters(resource: Resource) -> list[dict[str, Any]]:
    """Stated by the model that validates them (resources.list_query_model)."""
    return query_parameters(list_query_model(resource))


def _body_errors(resource: Resource) -> dict[str, Any]:
    if not resource.parent_field:
        return BODY_ERRORS
    parent = RESOURCES[resource.parent].label
    return {**BODY_ERRORS, **errors({422: f"invalid fields, one message per field in `fields`; "
                                          f"or no {parent} has the id in {resource.parent_field}"})}


def _resource_paths(resource: Resource) -> dict[str, Any]:
    label, name = resource.label, resource.out.__name__.removesuffix("Out")
    conflict = errors({409: f"another {label} has this name within the same parent"})
    return {
        f"{PREFIX}/{resource.path}": {
            "post": {
                "summary": f"Create a {label}",
                "requestBody": {"required": True, **json_content(resource.create.__name__)},
                "responses": {
                    "201": {**json_response("created", resource.out.__name__),
                            "headers": {"Location": {"description": "URL of the new item",
                                                     "schema": {"type": "string"}}}},
                    **conflict, **_body_errors(resource)},
            },
            "get": {
                "summary": f"List {label}s",
                "parameters": _list_parameters(resource),
                "responses": {"200": json_response("a page", f"{name}Page"),
                              "422": error("bad query parameter")},
            },
        },
        # The id is stated per operation (not once for the path): auth_openapi.secured
        # treats every key of a path item as an operation.
        f"{PREFIX}/{resource.path}/{{item_id}}": {
            "get": {"summary": f"One {label}",
                    "parameters": [ID],
                    "responses": {"200": json_response("found", resource.out.__name__),
                                  **NOT_FOUND}},
            "patch": {
                "summary": f"Change some fields of a {label}",
                "parameters": [ID],
                "requestBody": {"required": True, **json_content(resource.patch.__name__)},
                "responses": {"200": json_response("changed", resource.out.__name__),
                              **NOT_FOUND, **conflict, **_body_errors(resource)},
            },
            "delete": {
                "summary": f"Delete a {label}",
                "parameters": [ID, query_parameter("cascade",
                                                   {"type": "boolean", "default": False},
                                                   "also delete its children (and theirs)")],
                "responses": {
                    "204": {"description": "deleted"}, **NOT_FOUND,
                    **(errors({409: "it still has children (named in `children`) and cascade "
                                    "is not true"}) if resource.children else {}),
                    "422": error("bad query parameter")},
            },
        },
    }


def _page_schema(resource: Resource) -> dict[str, Any]:
    return {"type": "object", "required": ["items", "total", "limit", "offset"],
            "properties": {"items": {"type": "array", "items": ref(resource.out.__name__)},
                           "total": {"type": "integer", "minimum": 0},
                           "limit": {"type": "integer"}, "offset": {"type": "integer"}}}


def _mark_parent(schemas: dict[str, Any], resource: Resource) -> None:
    """The parent field names a row that must exist: a refusal no schema can state."""
    for model in (resource.create, resource.patch):
        field = schemas[model.__name__]["properties"][resource.parent_field]
        field[REFERENCES] = f"a {RESOURCES[resource.parent].label}"


@lru_cache(maxsize=1)
def document() -> dict[str, Any]:
    models: list[type[BaseModel]] = [VerifyPassword, EventPage]
    pages: dict[str, Any] = {}
    paths: dict[str, Any] = {}
    for resource in RESOURCES.values():
        models += [resource.create, resource.patch, resource.out]
        pages[f"{resource.out.__name__.removesuffix('Out')}Page"] = _page_schema(resource)
        paths.update(_resource_paths(resource))
    schemas = components(models, pages)
    for resource in RESOURCES.values():
        if resource.parent_field:
            _mark_parent(schemas, resource)
    paths[f"{PREFIX}/robots/{{item_id}}/verify-password"] = {"post": {
        "summary": "Check a robot's password",
        "description": "For robot-server, whose bearer is the UPLINK_KEY, and for admins. "
                       "After 5 wrong passwords for one robot within 15 minutes it answers "
                       "429, even to the right password, until Retry-After has passed.",
        "parameters": [ID],
        "requestBody": {"required": True, **json_content("VerifyPassword")},
        "responses": {"204": {"description": "the password matches"},
                      **errors({401: "`wrong_password`: the password does not match, or the "
                                     "robot has none; `unauthorized`: neither the UPLINK_KEY "
                                     "nor a user's token (WWW-Authenticate: Bearer)",
                                429: "too many wrong passwords for this robot (Retry-After "
                                     "says when to try again)",
                                503: "too many password checks at once (Retry-After)"}),
                      **NOT_FOUND, **BODY_ERRORS},
    }}
    paths[f"{PREFIX}/events"] = {"get": {
        "summary": "Change events after a cursor, oldest first",
        "parameters": query_parameters(EventQuery),
        "responses": {"200": json_response("a page of events", "EventPage"),
                      "422": error("bad query parameter")},
    }}
    described = openapi_document(
        "Mission Control registry",
        "The assets operators command: workspaces > projects > levels > robots and fixed "
        "assets; robots > modules. Secrets are write-only. Every call but /health and "
        "POST /api/auth/tokens needs `Authorization: Bearer <token>`: reads a viewer's, "
        "writes an admin's.", paths, schemas)
    return secured(described)
