"""Fuzzing a service from its own OpenAPI document (schemathesis), for tests and the CLI.

Every check runs, positive_data_acceptance included. One refusal no schema can state is let
through, and only that one: a schema-valid id that names no row (an unknown parent, target or
module). The document marks such request fields with ``x-references``; a 422 whose ``fields``
all name such fields is that refusal. Any other refusal of schema-valid data still fails.

Tests: ``schema = fuzz_schema(document())``, ``@schema.parametrize()``, ``@fuzz_settings(n)``,
then ``call_and_validate(case, app, headers)``. The CLI gets the same rule through
``SCHEMATHESIS_HOOKS=mission_control.fuzz_hooks``. Not imported by the services: schemathesis is
a test dependency only.
"""

from __future__ import annotations

from typing import Any, Iterator

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.core.parameters import ParameterLocation
from schemathesis.openapi.checks import RejectedPositiveData

from .openapi import REFERENCES


def fuzz_settings(max_examples: int) -> Any:
    """Bounded and repeatable for `make test`: derandomized, no example database, no deadline."""
    return settings(max_examples=max_examples, deadline=None, derandomize=True, database=None,
                    suppress_health_check=list(HealthCheck))


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _referencing(document: dict[str, Any], schema: dict[str, Any]) -> Iterator[str]:
    """Names of the body properties marked x-references, through $ref and oneOf/anyOf."""
    schema = _resolve(document, schema)
    for name, field in schema.get("properties", {}).items():
        if REFERENCES in _resolve(document, field):
            yield name
    for variant in schema.get("oneOf", []) + schema.get("anyOf", []):
        yield from _referencing(document, variant)


def _reference_fields(document: dict[str, Any], path: str, method: str) -> set[str]:
    operation = document["paths"].get(path, {}).get(method.lower(), {})
    body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
    return set(_referencing(document, body["schema"])) if body else set()


def refuses_an_unknown_reference(case: Any, response: Any) -> bool:
    """Whether the answer is a 422 naming only fields the document marks x-references."""
    if response.status_code != 422:
        return False
    try:
        fields = response.json().get("fields") or []
    except (ValueError, AttributeError):
        return False
    allowed = _reference_fields(case.operation.schema.raw_schema, case.operation.path,
                                case.method)
    named = {f.get("field") for f in fields if isinstance(f, dict)}
    return bool(named) and named <= allowed


def keep_failure(context: Any, failure: Any, case: Any, response: Any) -> bool:
    """schemathesis' filter_failure hook: drop only the documented unknown-reference refusal."""
    return not (isinstance(failure, RejectedPositiveData)
                and refuses_an_unknown_reference(case, response))


def fuzz_schema(document: dict[str, Any]) -> Any:
    """A schemathesis schema of ``document`` that knows the unknown-reference refusal."""
    schema = schemathesis.openapi.from_dict(document)
    schema.hook("filter_failure")(keep_failure)
    return schema


def call_and_validate(case: Any, app: Any, headers: dict[str, str] | None = None) -> Any:
    """Send the case to ``app`` (with ``headers``, e.g. a bearer token) and run every check.

    The app is also set on the case's schema: the ignored_auth check sends probes of its own
    (the request again without credentials, then with made-up ones) through the schema's
    transport, and they must reach the same app.
    """
    case.operation.schema.app = app
    if headers and _drops_a_required_header(case, headers):
        headers = None  # the case's flaw is that header's absence: keep it absent
    return case.call_and_validate(app=app, headers=headers)


def _drops_a_required_header(case: Any, headers: dict[str, str]) -> bool:
    """Whether a negative case left out one of ``headers`` on purpose (say, Authorization, to
    see the 401): adding it back would make the case valid, and its 2xx a false failure."""
    if case.meta is None or not case.meta.is_negative_at(ParameterLocation.HEADER):
        return False
    present = {name.lower() for name in (case.headers or {})}
    return any(name.lower() not in present for name in headers)


def is_positive(case: Any) -> bool:
    """Whether the case was generated to be valid (a negative one must keep its flaw)."""
    return case.meta is None or case.meta.generation.mode.is_positive


def point_body_at(case: Any, values: dict[str, Any]) -> None:
    """In a valid case, replace the string in each named body field by an id that exists."""
    if is_positive(case) and isinstance(case.body, dict):
        for field, value in values.items():
            if isinstance(case.body.get(field), str):
                case.body[field] = value


def distinct_batch_ids(case: Any) -> None:
    """Rename the duplicate ids of a generated uplink batch: the one rule of a batch no
    schema states (the uplink refuses duplicates with a 422)."""
    body = case.body
    if not (isinstance(body, dict) and isinstance(body.get("commands"), list)):
        return
    seen: set = set()
    for index, item in enumerate(body["commands"]):
        if isinstance(item, dict) and isinstance(item.get("id"), str):
            while item["id"] in seen:
                item["id"] = f"{item['id'][:56]}-{index}"[-64:]
            seen.add(item["id"])
