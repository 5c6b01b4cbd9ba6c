"""The OpenAPI 3.1 document of ground's telecommand API.

A new telecommand's body is stated per command of the catalog (its name, its arguments, whether
it needs ``"confirm": true``), so every body the document allows is one the service accepts,
given a target that exists and knows the command.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from mission_control.auth_openapi import secured
from mission_control.catalog import CATALOG, CommandSpec
from mission_control.openapi import (
    REFERENCES, components, document as openapi_document, error, errors, header_parameter,
    json_content, json_response, query_parameters, ref, schema_of,
)

from mission_control.telemetry_schemas import Batch, LatestQuery, SeriesQuery

from . import (
    alerts_openapi, approval_openapi, batches_openapi, passes_openapi, stacks_openapi,
    telemetry_csv,
)
from .verification_view import verifier_schema
from .reports import COLUMNS as REPORT_COLUMNS
from .schemas import (
    Accepted, FleetOut, LatestOut, ListQuery, NewTelecommand, ReportRange, SeriesOut,
    TelecommandOut, TelecommandPage,
)

ID = {"name": "command_id", "in": "path", "required": True,
      "schema": {"type": "string", "format": "uuid"}}
IDEMPOTENCY_KEY = header_parameter("Idempotency-Key", 200,
                                   "a retry with the same key returns the first command")


def _commands() -> dict[str, CommandSpec]:
    """Every command some target kind accepts; one body per name needs one command per name."""
    found: dict[str, CommandSpec] = {}
    for commands in CATALOG.values():
        for name, spec in commands.items():
            if found.setdefault(name, spec) != spec:
                raise ValueError(f"{name} means different commands for different target kinds")
    return found


def _kinds(name: str) -> list[str]:
    return [kind for kind, commands in CATALOG.items() if name in commands]


def _required_id(field: dict[str, Any]) -> dict[str, Any]:
    """A nullable id field, made a required string (null is no longer an answer)."""
    strings = [branch for branch in field.get("anyOf", []) if branch.get("type") == "string"]
    kept = {k: v for k, v in field.items() if k not in ("anyOf", "default")}
    return {**kept, **(strings[0] if strings else {"type": "string"})}


def _addressing(name: str, fields: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The target fields of a command's body: a command the spacecraft (the default target)
    does not know needs a target; one only modules know needs a module_id."""
    kinds = _kinds(name)
    fields, required = dict(fields), []
    if "spacecraft" not in kinds:
        fields["target"] = _required_id(fields["target"])
        required.append("target")
    if kinds == ["module"]:
        fields["module_id"] = _required_id(fields["module_id"])
        required.append("module_id")
    return fields, required


def _command_body(spec: CommandSpec, fields: dict[str, Any]) -> dict[str, Any]:
    """The body of POST /api/telecommands for one command of the catalog."""
    fields, required = _addressing(spec.name, fields)
    required = ["command_name", *required]
    if spec.args.model_json_schema().get("required"):
        required.append("args")
    confirm = {"type": "boolean", "default": False}
    if spec.hazardous:
        required.append("confirm")
        confirm = {"const": True, "description": "hazardous: the body must confirm it"}
    return {
        "type": "object", "title": spec.name,
        "description": f"{spec.description} For targets of kind: {', '.join(_kinds(spec.name))} "
                       "(a module's command names the robot as target and the module as "
                       "module_id).",
        "additionalProperties": False, "required": required,
        "properties": {**fields, "command_name": {"const": spec.name},
                       "args": ref(spec.args.__name__), "confirm": confirm},
    }


def _new_telecommand() -> dict[str, Any]:
    """NewTelecommand as one body per command, with the components those bodies refer to."""
    fields = schema_of(NewTelecommand)["properties"]
    for name, what in (("target", "a target (GET /api/targets)"),
                       ("module_id", "a module of the target")):
        fields[name] = {**fields[name], REFERENCES: what}
    variants: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    for name, spec in _commands().items():
        variants[f"Command_{name}"] = _command_body(spec, fields)
        schemas[spec.args.__name__] = spec.args.model_json_schema()
    schemas.update(variants)
    schemas["NewTelecommand"] = {
        "type": "object",
        "description": "A telecommand: one of the catalog's commands with its arguments. "
                       "By target kind: " + "; ".join(f"{kind}: {', '.join(commands)}"
                                                      for kind, commands in CATALOG.items()),
        "oneOf": [ref(name) for name in variants],
    }
    return schemas


@lru_cache(maxsize=1)
def document() -> dict[str, Any]:
    schemas = components((TelecommandOut, TelecommandPage, FleetOut, Batch, Accepted, SeriesOut,
                          LatestOut, *alerts_openapi.MODELS, *stacks_openapi.MODELS,
                          *passes_openapi.MODELS, *batches_openapi.MODELS,
                          *approval_openapi.MODELS),
                         {**_new_telecommand(), **stacks_openapi.schemas(),
                          **batches_openapi.schemas()})
    location = {"Location": {"description": "URL of the command", "schema": {"type": "string"}}}
    paths = {
        "/api/telecommands": {
            "post": {
                "summary": "Accept a new telecommand (READY, or AWAITING_APPROVAL when its "
                           "command needs a second person's approval: APPROVAL_REQUIRED)",
                "operationId": "createTelecommand",
                "parameters": [IDEMPOTENCY_KEY],
                "requestBody": {"required": True, **json_content("NewTelecommand")},
                "responses": {
                    "201": {**json_response("created (or replayed for a known Idempotency-Key)",
                                            "TelecommandOut"),
                            "headers": {**location, "Idempotent-Replayed": {
                                "description": "true when an earlier command was returned",
                                "schema": {"type": "string", "enum": ["true"]}}}},
                    **errors({400: "malformed JSON",
                              409: "Idempotency-Key reused for another command; or "
                                   "`controlled`: another user controls the target (`holder`, "
                                   "`expires_at`)",
                              413: "body too large",
                              415: "not application/json",
                              422: "a field or header is wrong (`fields` says which); the target "
                                   "or module does not exist (`unknown_target`); the target does "
                                   "not know the command (`invalid_command`)"}),
                },
            },
            "get": {
                "summary": "List telecommands, newest first",
                "operationId": "listTelecommands",
                "parameters": query_parameters(ListQuery),
                "responses": {"200": json_response("a page", "TelecommandPage"),
                              "422": error("bad query parameter")},
            },
        },
        "/api/telecommands/{command_id}": {
            "get": {
                "summary": "One telecommand with its history",
                "operationId": "getTelecommand",
                "parameters": [ID],
                "responses": {"200": json_response("found", "TelecommandOut"),
                              "404": error("unknown or malformed id")},
            },
        },
        "/api/telecommands/{command_id}/cancel": {
            "put": {
                "summary": "Cancel a telecommand AWAITING_APPROVAL or READY",
                "operationId": "cancelTelecommand",
                "parameters": [ID],
                "responses": {"200": json_response("cancelled", "TelecommandOut"),
                              **errors({404: "unknown or malformed id",
                                        409: "no longer AWAITING_APPROVAL or READY; the "
                                             "body's status says what it is"})},
            },
        },
        "/api/catalog": {"get": {
            "summary": "Commands per target kind", "operationId": "getCatalog",
            "responses": {"200": json_response("the catalog", {
                "type": "object", "additionalProperties": {"type": "array", "items": {
                    "type": "object", "required": ["name", "description", "hazardous",
                                                   "args_schema"],
                    "properties": {"verifier": verifier_schema()}}}})}}},
        "/api/targets": {"get": {
            "summary": "Known targets", "operationId": "listTargets",
            "responses": {"200": json_response("targets", {
                "type": "object", "required": ["items"], "properties": {"items": {
                    "type": "array", "items": {"type": "object",
                                               "required": ["id", "kind", "name"]}}}})}}},
        "/api/workers": {"get": {
            "summary": "Command-senders seen lately: running, stopped, or lost (no heartbeat)",
            "operationId": "listWorkers",
            "responses": {"200": json_response("workers and how many are running", {
                "type": "object", "required": ["items", "running"],
                "properties": {"items": {"type": "array"},
                               "running": {"type": "integer", "minimum": 0}}})}}},
        "/api/fleet": {"get": {
            "summary": "Every robot, sorted by name: connection, last heartbeat, status, "
                       "battery and modules",
            "operationId": "getFleet",
            "responses": {"200": json_response("the fleet", "FleetOut")}}},
        **_telemetry_paths(),
        **telemetry_csv.openapi_paths(),
        **alerts_openapi.paths(),
        **stacks_openapi.paths(),
        **passes_openapi.paths(),
        **batches_openapi.paths(),
        **approval_openapi.paths(),
        "/api/reports/telecommands.csv": {"get": {
            "summary": "The telecommands created in a time range as CSV, oldest first",
            "description": "Columns: " + ", ".join(REPORT_COLUMNS) + ". `since` must be "
                           "before `until`; a range holding more than REPORT_MAX_ROWS commands "
                           "is refused (`too_many_rows`). Cells starting with = + - @ are "
                           "prefixed with an apostrophe.",
            "operationId": "getTelecommandReport",
            "parameters": query_parameters(ReportRange),
            "responses": {"200": {"description": "the report, streamed",
                                  "content": {"text/csv": {"schema": {"type": "string"}}}},
                          "422": error("bad parameter, empty range or too many rows")}}},
    }
    described = openapi_document(
        "Mission Control ground",
        "Issue telecommands and follow them to a final state. Every call but /health and "
        "POST /api/auth/tokens needs `Authorization: Bearer <token>`.", paths, schemas)
    return secured(described, {("post", "/api/telecommands"): "operator",
                               ("put", "/api/telecommands/{command_id}/cancel"): "operator",
                               ("post", "/api/telemetry"): "operator",
                               **alerts_openapi.ROLES, **stacks_openapi.ROLES,
                               **passes_openapi.ROLES, **batches_openapi.ROLES,
                               **approval_openapi.ROLES})


def _telemetry_paths() -> dict[str, Any]:
    return {
        "/api/telemetry": {
            "post": {
                "summary": "Store a batch of telemetry points, all or nothing",
                "operationId": "ingestTelemetry",
                "requestBody": {"required": True, **json_content("Batch")},
                "responses": {
                    "201": json_response("every point stored", "Accepted"),
                    **errors({400: "malformed JSON", 413: "body above TELEMETRY_MAX_BODY_BYTES",
                              415: "not application/json",
                              422: "`invalid_points`: nothing stored; `errors` names each bad "
                                   "point (`index`, `field`, `message`; the first 100) and "
                                   "`error_count` how many there were"}),
                },
            },
            "get": {
                "summary": "One parameter of a source over [since, until): the raw points, or "
                           "min/max/avg buckets when there are more than max_points",
                "operationId": "getTelemetry",
                "parameters": query_parameters(SeriesQuery),
                "responses": {"200": json_response("the series", "SeriesOut"),
                              "422": error("bad query parameter, or since not before until")},
            },
        },
        "/api/telemetry/latest": {"get": {
            "summary": "Each parameter of a source with its newest value and limit state",
            "operationId": "getLatestTelemetry",
            "parameters": query_parameters(LatestQuery),
            "responses": {"200": json_response("the newest values", "LatestOut"),
                          "422": error("bad query parameter")}}},
    }
