"""The OpenAPI 3.1 document of the spacecraft, built from the models that validate and answer.

The single form of POST /commands is documented command by command from the catalog (name
and argument schema, and confirmed_by required for a hazardous one), so a request the document
calls valid is one the spacecraft accepts. The uplink routes need the uplink key (a bearer
scheme, ``uplinkKey``); /state and /health are open.
Items of a batch are documented with the looser UplinkRequest: the catalog refuses an item in
the answer (acknowledged: false), not with an error for the whole call.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from mission_control.catalog import CommandSpec, commands_for
from mission_control.openapi import document, json_response, ref
from mission_control.uplink_openapi import keyed, uplink_components, uplink_paths

from .schemas import StateReport


def _command_variant(spec: CommandSpec, request: dict[str, Any]) -> dict[str, Any]:
    """The single form for one catalog command: its name, and its arguments' schema."""
    properties = dict(request["properties"])
    properties["command_name"] = {"type": "string", "const": spec.name,
                                  "description": spec.description}
    required = ["id", "command_name"]
    if spec.hazardous:
        confirmed_by = dict(request["properties"]["confirmed_by"])
        properties["confirmed_by"] = {**next(o for o in confirmed_by.pop("anyOf")
                                             if o["type"] == "string"), **confirmed_by}
        properties["confirmed_by"].pop("default", None)
        required.append("confirmed_by")
    args = ref(spec.args.__name__)
    if spec.args.model_json_schema().get("required"):
        properties["args"] = args
        required.append("args")
    else:
        properties["args"] = {"anyOf": [args, {"type": "null"}],
                              "description": "no arguments: omit, null or {}"}
    return {"type": "object", "title": spec.name, "required": required,
            "properties": properties, "not": {"required": ["commands"]}}


def _components(batch_max: int) -> dict[str, Any]:
    schemas = uplink_components(batch_max)
    schemas["StateReport"] = StateReport.model_json_schema(
        ref_template="#/components/schemas/{model}")
    schemas.update(schemas["StateReport"].pop("$defs", {}))
    catalog = commands_for("spacecraft")
    variants = []
    for spec in catalog.values():
        schemas.setdefault(spec.args.__name__, spec.args.model_json_schema())
        schemas[f"Command_{spec.name}"] = _command_variant(spec, schemas["UplinkRequest"])
        variants.append(ref(f"Command_{spec.name}"))
    schemas["CatalogCommand"] = {
        "description": "One command of the spacecraft catalog, its arguments as the catalog "
                       "defines them.",
        "type": "object",
        "properties": {"command_name": {"type": "string", "enum": sorted(catalog)}},
        "oneOf": variants,
    }
    return schemas


@lru_cache(maxsize=4)
def openapi_document(batch_max: int = 500) -> dict[str, Any]:
    """The whole document for a given UPLINK_BATCH_MAX; it never changes while the process
    runs."""
    command_names = ", ".join(sorted(commands_for("spacecraft")))
    description = ("The simulated spacecraft's side of the uplink protocol: it receives "
                   "commands, one or a batch at a time, and its executor runs each at most once "
                   "after a random delay, on its own clock, and may fail it. Reads never "
                   "execute anything. The /commands routes need the uplink key (only ground "
                   "commands the spacecraft); a hazardous command names who confirmed it on "
                   "ground in confirmed_by. Commands: " + command_names + ".")
    refused = ("the catalog refuses it (error invalid_command; a hazardous command without "
               "confirmed_by too, naming that field)")
    paths = {
        **uplink_paths(batch_max, ref("CatalogCommand"), refused),
        "/state": {"get": {
            "summary": "The simulated spacecraft's state; read only",
            "description": "What the commands executed so far made of it.",
            "operationId": "getState",
            "responses": {"200": json_response("the state", "StateReport")},
        }},
    }
    return keyed(document("Spacecraft", description, paths, _components(batch_max)))
