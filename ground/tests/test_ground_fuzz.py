"""Property-based fuzzing from ground's own OpenAPI document (schemathesis), all checks.

Every documented operation gets generated requests, valid and invalid, on both databases;
every answer must be documented, match its schema, and never be a 5xx; schema-valid requests
must be accepted. Generated targets are pointed at a target whose kind knows the command (the
spacecraft, a robot, or a robot's module) and ids at a command that exists, so valid bodies
reach the catalog and the lifecycle instead of stopping at "unknown".
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from ground.openapi import document
from mission_control.catalog import CATALOG
from mission_control.fuzzing import (
    call_and_validate, fuzz_schema, fuzz_settings, is_positive, point_body_at, refuses_an_unknown_reference,
)
from mission_control.models import SPACECRAFT_TARGET_ID, Target
from mission_control.testing import bearer, token_for
from mission_control.timeutil import utcnow
from mission_control.validation import timestamp

schema = fuzz_schema(document())


@pytest.fixture
def existing_command(client) -> str:
    response = client.post("/api/telecommands", json={"command_name": "PING"})
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()["id"]


@pytest.fixture
def existing_stack(client) -> str:
    response = client.post("/api/stacks", json={"target": SPACECRAFT_TARGET_ID, "steps": [
        {"command_name": "PING", "wait_for": "EXECUTED"}]})
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()["id"]


@pytest.fixture
def fleet(database) -> None:
    with database.transaction() as session:
        session.add(Target(id="robot-1", kind="robot", name="Robot 1"))
        session.flush()
        session.add(Target(id="robot-1-arm", kind="module", name="Arm", parent_id="robot-1"))


# A command's name -> the target (and module) of a kind that knows it, first match wins.
ADDRESSES = ((SPACECRAFT_TARGET_ID, None, "spacecraft"), ("robot-1", None, "robot"),
             ("robot-1", "robot-1-arm", "module"))


def _address(case) -> dict[str, object]:
    name = case.body.get("command_name") if isinstance(case.body, dict) else None
    for target, module_id, kind in ADDRESSES:
        if isinstance(name, str) and name in CATALOG[kind]:
            return {"target": target, "module_id": module_id}
    return {"target": SPACECRAFT_TARGET_ID, "module_id": None}


def _is_uuid(value: object) -> bool:
    try:
        return isinstance(value, str) and bool(uuid.UUID(value))
    except ValueError:
        return False


def _coherent_stack(case) -> None:
    """A valid stack's steps must all suit its one target, a rule no schema states: the
    target becomes robot-1, a module's command names its arm, and a step no robot or module
    knows (a spacecraft command) becomes a PING."""
    if not (is_positive(case) and case.path == "/api/stacks" and isinstance(case.body, dict)
            and isinstance(case.body.get("steps"), list)):
        return
    case.body["target"] = "robot-1"
    for index, step in enumerate(case.body["steps"]):
        if not isinstance(step, dict):
            continue
        name = step.get("command_name")
        if name in CATALOG["module"] and (step.get("module_id") is not None
                                          or name not in CATALOG["robot"]):
            step["module_id"] = "robot-1-arm"
        elif name in CATALOG["robot"]:
            step.pop("module_id", None)
        else:
            case.body["steps"][index] = {"command_name": "PING",
                                         "wait_for": step.get("wait_for", "EXECUTED")}


ORDER = ("red_low", "yellow_low", "yellow_high", "red_high")


def _orderly_limits(case) -> None:
    """In a valid PUT /api/limits, the rules of a limit no schema states: the bounds in
    order (red_low <= yellow_low <= yellow_high <= red_high) and each source and parameter
    once (the API refuses either with a 422)."""
    body = case.body
    items = body if isinstance(body, list) else [body]
    seen: set = set()
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            continue
        present = [name for name in ORDER if isinstance(item.get(name), (int, float))]
        for name, value in zip(present, sorted(item[name] for name in present)):
            item[name] = value
        if isinstance(item.get("parameter"), str):
            while (item.get("source"), item["parameter"]) in seen:
                item["parameter"] = f"{item['parameter'][:56]}-{index}"[-64:]
            seen.add((item.get("source"), item["parameter"]))


def _times_of_now(case) -> None:
    """Telemetry times must lie between 1970 and a day ahead, and a query's since before its
    until: rules that move with the clock, which no schema states. Valid cases get times of
    now (an hour's window)."""
    if not is_positive(case) or not case.path.startswith("/api/telemetry"):
        return
    now = utcnow()
    if isinstance(case.body, dict) and isinstance(case.body.get("points"), list):
        for point in case.body["points"]:
            if isinstance(point, dict) and isinstance(point.get("time"), str):
                point["time"] = now.isoformat()
    for name, at in (("since", now - timedelta(hours=1)), ("until", now)):
        if isinstance((case.query or {}).get(name), str):
            case.query[name] = at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _time_tags_ahead(case) -> None:
    """Time tags and passes must lie in 2000-2099, an expiry ahead and after not_before, and
    passes in order without overlap: rules of the clock and of the list, which no schema
    states. Valid cases get such times (an hour apart, from an hour ahead)."""
    if not is_positive(case) or not isinstance(case.body, dict):
        return
    now = utcnow()
    for hours, name in enumerate(("not_before", "expires_at"), start=1):
        if isinstance(case.body.get(name), str):
            case.body[name] = (now + timedelta(hours=hours)).isoformat()
    if isinstance(case.body.get("passes"), list):
        for index, item in enumerate(case.body["passes"]):
            if isinstance(item, dict):
                item["start_at"] = (now + timedelta(hours=2 * index + 1)).isoformat()
                item["end_at"] = (now + timedelta(hours=2 * index + 2)).isoformat()


@schema.parametrize()
@fuzz_settings(max_examples=100)
def test_ground_answers_match_its_openapi_document(case, app, database, existing_command,
                                                   existing_stack, fleet, fast_hashing):
    if is_positive(case) and case.path == "/api/limits" and case.method == "PUT":
        _orderly_limits(case)
    address = _address(case)
    point_body_at(case, address)
    _times_of_now(case)
    _time_tags_ahead(case)
    if is_positive(case) and isinstance(case.body, dict) and address["module_id"]:
        case.body["module_id"] = address["module_id"]  # a module's command names its module
    if is_positive(case) and _is_uuid((case.path_parameters or {}).get("command_id")):
        case.path_parameters["command_id"] = existing_command
    if is_positive(case) and _is_uuid((case.path_parameters or {}).get("stack_id")):
        case.path_parameters["stack_id"] = existing_stack
    _coherent_stack(case)
    if is_positive(case):
        _order_the_range(case)
    call_and_validate(case, app, bearer(token_for(database, "fuzz-admin", "admin")))


def _order_the_range(case) -> None:
    """The one rule of a report's range no schema states: ``since`` before ``until`` (now by
    default). A generated ``since`` that is not is left out: it then defaults to a day before."""
    query = case.query if isinstance(case.query, dict) else {}
    try:
        since = timestamp(query["since"])
        until = timestamp(query["until"]) if "until" in query else utcnow()
    except (KeyError, ValueError):
        return
    if since >= until:
        del query["since"]


def test_only_a_refusal_naming_target_or_module_counts_as_the_unknown_reference(app, database):
    operation = schema["/api/telecommands"]["POST"]
    signed_in = bearer(token_for(database, "operator"))
    unknown_target = operation.Case(body={"command_name": "PING", "target": "mars-rover"})
    response = unknown_target.call(app=app, headers=signed_in)
    assert response.status_code == 422 and refuses_an_unknown_reference(unknown_target, response)

    bad_args = operation.Case(body={"command_name": "SET_HEATER", "args": {"on": "yes"}})
    response = bad_args.call(app=app, headers=signed_in)
    assert response.status_code == 422 and not refuses_an_unknown_reference(bad_args, response)
