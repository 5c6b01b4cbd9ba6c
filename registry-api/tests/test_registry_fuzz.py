"""Property-based fuzzing from the registry's own OpenAPI document (schemathesis), all checks.

Every documented operation gets generated requests, valid and invalid, on both databases;
every answer must be documented, match its schema, and never be a 5xx. Schema-valid requests
must be accepted, so generated parent ids and item ids are pointed at existing rows (a random
UUID names no parent, which the schema cannot express; mission_control.fuzzing accepts that
refusal, documented in the document, and no other). Every call carries an admin's bearer
token, so the checks reach the handlers (schemathesis' ignored_auth check also sends the
secured operations without it and expects a 401).
"""

from __future__ import annotations

import uuid

import pytest

from mission_control.fuzzing import (
    call_and_validate, fuzz_schema, fuzz_settings, is_positive, point_body_at,
    refuses_an_unknown_reference,
)
from mission_control.testing import bearer
from registry_api.openapi import document

PARENT_FIELDS = {"workspace_id": "workspaces", "project_id": "projects", "level_id": "levels",
                 "robot_id": "robots"}

# From the document itself rather than a fixture: schemathesis' lazy fixture loader does not
# work with this pytest. The app (and so the database) comes in as a fixture per test.
schema = fuzz_schema(document())


@pytest.fixture
def existing(registry, fast_hashing) -> dict[str, str]:
    """The id of one row of each resource, all in one hierarchy."""
    ids = {"workspaces": registry.workspace()["id"]}
    ids["projects"] = registry.project(workspace_id=ids["workspaces"])["id"]
    ids["levels"] = registry.level(project_id=ids["projects"])["id"]
    ids["robots"] = registry.robot(level_id=ids["levels"], password="fuzz")["id"]
    ids["modules"] = registry.module(robot_id=ids["robots"])["id"]
    ids["fixed-assets"] = registry.fixed_asset(level_id=ids["levels"])["id"]
    return ids


def _is_uuid(value: object) -> bool:
    try:
        uuid.UUID(str(value))
        return isinstance(value, str)
    except ValueError:
        return False


def point_at_existing_rows(case, existing: dict[str, str]) -> None:
    if isinstance(case.body, dict):
        point_body_at(case, {field: existing[resource] for field, resource in PARENT_FIELDS.items()
                             if _is_uuid(case.body.get(field))})
    item_id = (case.path_parameters or {}).get("item_id")
    if is_positive(case) and case.method.upper() != "DELETE" and _is_uuid(item_id):
        case.path_parameters["item_id"] = existing[case.path.split("/")[3]]


@schema.parametrize()
@fuzz_settings(max_examples=20)
def test_registry_answers_match_its_openapi_document(case, app, existing, admin_token):
    point_at_existing_rows(case, existing)
    call_and_validate(case, app, bearer(admin_token))


def test_only_a_refusal_naming_the_parent_field_counts_as_the_unknown_reference(app, existing,
                                                                                admin_token):
    operation = schema["/api/v1/projects"]["POST"]
    unknown_parent = operation.Case(body={"name": "p", "workspace_id": str(uuid.uuid4())})
    response = unknown_parent.call(app=app, headers=bearer(admin_token))
    assert response.status_code == 422 and refuses_an_unknown_reference(unknown_parent, response)

    bad_name = operation.Case(body={"name": "", "workspace_id": existing["workspaces"]})
    response = bad_name.call(app=app, headers=bearer(admin_token))
    assert response.status_code == 422 and not refuses_an_unknown_reference(bad_name, response)
