"""The OpenAPI 3.1 document of the registry, built from the same models that validate requests."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from pydantic import BaseModel

from mission_control.web import ERROR_SCHEMA, schema_of

from .resources import RESOURCES, Resource
from .schemas import EventPage, VerifyPassword
from .types import Status

PREFIX = "/api/v1"


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(name: str) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": _ref(name)}}}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, **_json("Error")}


BODY_ERRORS = {
    "400": _error("malformed JSON"),
    "413": _error("body larger than MAX_BODY_BYTES"),
    "415": _error("body not sent as application/json"),
    "422": _error("invalid fields, one message per field in `fields`"),
}
NOT_FOUND = {"404": _error("unknown or malformed id")}
ID = {"name": "item_id", "in": "path", "required": True,
      "schema": {"type": "string", "format": "uuid"}}


def _query(name: str, schema: dict[str, Any], description: str = "") -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema,
            "description": description}


def _list_parameters(resource: Resource) -> list[dict[str, Any]]:
    parameters = [
        _query("limit", {"type": "integer", "minimum": 1, "maximum": 500, "default": 50}),
        _query("offset", {"type": "integer", "minimum": 0, "maximum": 1_000_000_000, "default": 0}),
        _query("sort", {"type": "string", "enum": ["name", "-name", "created_at", "-created_at"],
                        "default": "created_at"}, "order; a leading - reverses it"),
    ]
    if resource.parent_field:
        parameters.append(_query(resource.parent_field, {"type": "string", "format": "uuid"},
                                 "only the children of this parent"))
    if resource.has_status:
        parameters.append(_query("status", {"type": "string", "enum": list(Status.__args__)}))
    return parameters


def _resource_paths(resource: Resource) -> dict[str, Any]:
    label, name = resource.label, resource.out.__name__.removesuffix("Out")
    conflict = {"409": _error(f"another {label} has this name within the same parent")}
    return {
        f"{PREFIX}/{resource.path}": {
            "post": {
                "summary": f"Create a {label}",
                "requestBody": {"required": True, **_json(resource.create.__name__)},
                "responses": {
                    "201": {"description": "created", **_json(resource.out.__name__),
                            "headers": {"Location": {"description": "URL of the new item",
                                                     "schema": {"type": "string"}}}},
                    **conflict, **BODY_ERRORS},
            },
            "get": {
                "summary": f"List {label}s",
                "parameters": _list_parameters(resource),
                "responses": {"200": {"description": "a page", **_json(f"{name}Page")},
                              "422": _error("bad query parameter")},
            },
        },
        f"{PREFIX}/{resource.path}/{{item_id}}": {
            "parameters": [ID],
            "get": {"summary": f"One {label}",
                    "responses": {"200": {"description": "found", **_json(resource.out.__name__)},
                                  **NOT_FOUND}},
            "patch": {
                "summary": f"Change some fields of a {label}",
                "requestBody": {"required": True, **_json(resource.patch.__name__)},
                "responses": {"200": {"description": "changed", **_json(resource.out.__name__)},
                              **NOT_FOUND, **conflict, **BODY_ERRORS},
            },
            "delete": {
                "summary": f"Delete a {label}",
                "parameters": [_query("cascade", {"type": "boolean", "default": False},
                                      "also delete its children (and theirs)")],
                "responses": {
                    "204": {"description": "deleted"}, **NOT_FOUND,
                    **({"409": _error("it still has children (named in `children`) "
                                      "and cascade is not true")} if resource.children else {}),
                    "422": _error("bad query parameter")},
            },
        },
    }


def _page_schema(resource: Resource) -> dict[str, Any]:
    return {"type": "object", "required": ["items", "total", "limit", "offset"],
            "properties": {"items": {"type": "array", "items": _ref(resource.out.__name__)},
                           "total": {"type": "integer", "minimum": 0},
                           "limit": {"type": "integer"}, "offset": {"type": "integer"}}}


@lru_cache(maxsize=1)
def document() -> dict[str, Any]:
    schemas: dict[str, Any] = {"Error": ERROR_SCHEMA}
    models: list[type[BaseModel]] = [VerifyPassword, EventPage]
    paths: dict[str, Any] = {}
    for resource in RESOURCES.values():
        models += [resource.create, resource.patch, resource.out]
        schemas[f"{resource.out.__name__.removesuffix('Out')}Page"] = _page_schema(resource)
        paths.update(_resource_paths(resource))
    for model in models:
        schema = schema_of(model)
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
    paths[f"{PREFIX}/robots/{{item_id}}/verify-password"] = {"post": {
        "summary": "Check a robot's password",
        "parameters": [ID],
        "requestBody": {"required": True, **_json("VerifyPassword")},
        "responses": {"204": {"description": "the password matches"},
                      "401": _error("the password does not match, or the robot has none"),
                      **NOT_FOUND, **BODY_ERRORS},
    }}
    paths[f"{PREFIX}/events"] = {"get": {
        "summary": "Change events after a cursor, oldest first",
        "parameters": [_query("since", {"type": "integer", "minimum": 0,
                                        "maximum": 2**63 - 1, "default": 0},
                              "the last event id already seen"),
                       _query("limit", {"type": "integer", "minimum": 1, "maximum": 1000,
                                        "default": 100})],
        "responses": {"200": {"description": "a page of events", **_json("EventPage")},
                      "422": _error("bad query parameter")},
    }}
    paths["/health"] = {"get": {"summary": "Service and database health",
                                "responses": {"200": {"description": "healthy"},
                                              "503": _error("database unreachable")}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Mission Control registry", "version": "0.1.0",
                 "description": "The assets operators command: workspaces > projects > levels > "
                                "robots and fixed assets; robots > modules. Secrets are "
                                "write-only."},
        "paths": paths,
        "components": {"schemas": schemas},
    }
