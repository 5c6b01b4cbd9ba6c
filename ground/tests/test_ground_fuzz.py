"""Property-based fuzzing from ground's own OpenAPI document (schemathesis), all checks.

Every documented operation gets generated requests, valid and invalid, on both databases;
every answer must be documented, match its schema, and never be a 5xx; schema-valid requests
must be accepted. Generated targets are pointed at the spacecraft and ids at a command that
exists, so valid bodies reach the catalog and the lifecycle instead of stopping at "unknown".
"""

from __future__ import annotations

import uuid

import pytest

from ground.openapi import document
from mission_control.fuzzing import (
    call_and_validate, fuzz_schema, fuzz_settings, is_positive, point_body_at, refuses_an_unknown_reference,
)
from mission_control.models import SPACECRAFT_TARGET_ID
from mission_control.testing import bearer, token_for

schema = fuzz_schema(document())


@pytest.fixture
def existing_command(client) -> str:
    response = client.post("/api/telecommands", json={"command_name": "PING"})
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()["id"]


def _is_uuid(value: object) -> bool:
    try:
        return isinstance(value, str) and bool(uuid.UUID(value))
    except ValueError:
        return False


@schema.parametrize()
@fuzz_settings(max_examples=100)
def test_ground_answers_match_its_openapi_document(case, app, database, existing_command,
                                                   fast_hashing):
    point_body_at(case, {"target": SPACECRAFT_TARGET_ID, "module_id": None})
    if is_positive(case) and _is_uuid((case.path_parameters or {}).get("command_id")):
        case.path_parameters["command_id"] = existing_command
    call_and_validate(case, app, bearer(token_for(database, "fuzz-admin", "admin")))


def test_only_a_refusal_naming_target_or_module_counts_as_the_unknown_reference(app, database):
    operation = schema["/api/telecommands"]["POST"]
    signed_in = bearer(token_for(database, "operator"))
    unknown_target = operation.Case(body={"command_name": "PING", "target": "mars-rover"})
    response = unknown_target.call(app=app, headers=signed_in)
    assert response.status_code == 422 and refuses_an_unknown_reference(unknown_target, response)

    bad_args = operation.Case(body={"command_name": "SET_HEATER", "args": {"on": "yes"}})
    response = bad_args.call(app=app, headers=signed_in)
    assert response.status_code == 422 and not refuses_an_unknown_reference(bad_args, response)
