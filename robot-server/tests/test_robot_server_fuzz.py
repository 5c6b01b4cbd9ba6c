"""Property-based fuzzing from robot-server's own OpenAPI document (schemathesis), on both
databases. Valid cases name a real robot, its password and a fresh session's token, so a
schema-valid request must be accepted; a module id that is not the robot's is the one
documented refusal (422 on that field, x-references), and so is an uplink command whose
target is no robot. Polls wait 0 s (the wait's bounds are checked in the unit tests); the
uplink routes get the uplink key."""

from __future__ import annotations

import pytest

from mission_control.fuzzing import (
    call_and_validate, distinct_batch_ids, fuzz_schema, fuzz_settings, is_positive,
)
from robot_server.openapi import openapi_document
from robot_server.schemas import MAX_MODULES
from robot_server.testing import PASSWORD, UPLINK_KEY, add_robot, auth, token_of

MAX_EXAMPLES = 25
BATCH_MAX = 5  # small batches keep generated bodies small

schema = fuzz_schema(openapi_document(BATCH_MAX))


@pytest.fixture
def fuzz_robot(database):
    return add_robot(database, "fuzzed", modules=MAX_MODULES)


@schema.parametrize()
@fuzz_settings(MAX_EXAMPLES)
def test_robot_server_answers_match_its_openapi_document(case, make_app, fuzz_robot):
    app = make_app(uplink_batch_max=BATCH_MAX)
    robot_id, module_ids = fuzz_robot
    distinct_batch_ids(case)
    if is_positive(case):
        case.path_parameters = {**(case.path_parameters or {}), "robot_id": str(robot_id)}
        if isinstance(case.body, dict) and case.path.endswith("/session"):
            case.body["password"] = PASSWORD
        if isinstance(case.body, dict) and isinstance(case.body.get("modules"), list):
            for item, module_id in zip(case.body["modules"], module_ids):  # distinct, its own
                if isinstance(item, dict):
                    item["module_id"] = str(module_id)
    if case.method == "GET" and case.path.endswith("/commands") and \
            (case.query is None or isinstance(case.query, dict)):
        query = case.query or {}
        if "wait" not in query or _a_wait(query.get("wait")):  # absent: the default, 20 s
            case.query = {**query, "wait": 0}
    token = UPLINK_KEY if case.path.startswith("/commands") else \
        token_of(app.test_client(), robot_id)
    call_and_validate(case, app, auth(token))


def _a_wait(value) -> bool:
    """Whether a query's wait is one the poll would wait for (0 to 30 s)."""
    try:
        return 0 < float(value) <= 30
    except (TypeError, ValueError):
        return False
