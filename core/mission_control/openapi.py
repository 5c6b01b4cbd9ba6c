"""Building blocks of the services' OpenAPI 3.1 documents: one error schema, one way to refer to
a component, to describe a JSON answer or an error, and to turn pydantic models into components.

Each service's openapi.py states its paths with these; what a field accepts comes from the same
pydantic models (or catalog) that validate requests, so the document and the service agree.
"""

from __future__ import annotations

from typing import Any, Iterable

from pydantic import BaseModel

OPENAPI_VERSION = "3.1.0"

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {"error": {"type": "string"}, "message": {"type": "string"}},
    "additionalProperties": True,
}

# What PlainText (mission_control.web) refuses, stated as a pattern: no control characters.
PLAIN_TEXT_PATTERN = "^[^\\u0000-\\u001f\\u007f]*$"

# The extension that marks a request field naming a row that must exist (a parent, a target).
# No schema can say which ids exist, so a schema-valid id may be refused with a 422 naming the
# field; mission_control.fuzzing accepts exactly that refusal and nothing else.
REFERENCES = "x-references"


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def json_content(schema: dict[str, Any] | str) -> dict[str, Any]:
    """``content`` of a JSON body; a string names a component."""
    return {"content": {"application/json": {"schema": ref(schema) if isinstance(schema, str)
                                              else schema}}}


def json_response(description: str, schema: dict[str, Any] | str) -> dict[str, Any]:
    return {"description": description, **json_content(schema)}


def error(description: str) -> dict[str, Any]:
    """An error response: the shared Error body."""
    return json_response(description, "Error")


def errors(descriptions: dict[int, str]) -> dict[str, Any]:
    """Error responses by status code: ``{422: "why"}`` -> ``{"422": {...}}``."""
    return {str(code): error(text) for code, text in descriptions.items()}


def schema_of(model: type[BaseModel]) -> dict[str, Any]:
    """A model's JSON schema with nested definitions pointing into components/schemas."""
    return model.model_json_schema(ref_template="#/components/schemas/{model}")


def components(models: Iterable[type[BaseModel]],
               extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """``components/schemas``: Error, each model under its class name, their nested models."""
    schemas: dict[str, Any] = {"Error": ERROR_SCHEMA}
    for model in models:
        schema = schema_of(model)
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
    schemas.update(extra or {})
    return schemas


def query_parameter(name: str, schema: dict[str, Any], description: str = "",
                    required: bool = False) -> dict[str, Any]:
    parameter = {"name": name, "in": "query", "required": required, "schema": schema}
    if description:
        parameter["description"] = description
    return parameter


def query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    """The query parameters a model validates, each with its field's schema (an absent
    parameter takes the default, so ``null`` alternatives are left out); a field without a
    default is a required parameter."""
    schema = model.model_json_schema()
    required = set(schema.get("required", ()))
    definitions = schema.get("$defs", {})
    parameters = []
    for name, field in schema["properties"].items():
        field = {k: v for k, v in field.items() if k != "title"}
        options = [o for o in field.pop("anyOf", []) if o != {"type": "null"}]
        if len(options) == 1:
            field = {**options[0], **field}
        elif options:
            field["anyOf"] = options
        if "$ref" in field:
            target = definitions[field.pop("$ref").rsplit("/", 1)[1]]
            field = {**{k: v for k, v in target.items() if k != "title"}, **field}
        if field.get("default", ...) is None:
            del field["default"]
        parameters.append(query_parameter(name, field, field.pop("description", ""),
                                          name in required))
    return parameters


def header_parameter(name: str, max_length: int, description: str) -> dict[str, Any]:
    """An optional header read with web.plain_header: 1 to ``max_length`` printable characters.

    HTTP drops the whitespace around a header value before the service sees it, so what is
    left to state is the length and no control characters (a tab included)."""
    return {"name": name, "in": "header", "required": False, "description": description,
            "schema": {"type": "string", "minLength": 1, "maxLength": max_length,
                       "pattern": PLAIN_TEXT_PATTERN}}


def health_path() -> dict[str, Any]:
    """``/health``, the same in every service."""
    return {"get": {
        "summary": "Service and database health",
        "operationId": "getHealth",
        "responses": {
            "200": json_response("the service and its database answer", {
                "type": "object", "required": ["status", "service", "database"],
                "properties": {"status": {"type": "string"}, "service": {"type": "string"},
                               "database": {"type": "string"}}}),
            "503": error("the database is not reachable"),
        },
    }}


def document(title: str, description: str, paths: dict[str, Any],
             schemas: dict[str, Any]) -> dict[str, Any]:
    """The whole OpenAPI 3.1 document of a service."""
    return {
        "openapi": OPENAPI_VERSION,
        "info": {"title": title, "version": "0.1.0", "description": description},
        "paths": {**paths, "/health": health_path()},
        "components": {"schemas": schemas},
    }
