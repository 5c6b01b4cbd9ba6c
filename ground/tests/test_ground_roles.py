"""The role matrix of ground's API: every route x every kind of caller answers as specified.

Callers: nobody, a viewer, an operator, an admin, and three whose token no longer works (revoked,
expired, of a disabled user). A route not in ROUTES fails the test, so none escapes the matrix.
"""

from __future__ import annotations

import itertools
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from mission_control.auth import hash_token
from mission_control.auth_models import ApiToken, User
from mission_control.models import Target
from mission_control.registry_models import Robot
from mission_control.status import Status
from mission_control.testing import (
    CALLER_ROLES, add_user, assert_error, caller_token, gen_alert, gen_command, gen_stack,
    token_for,
)
from ground import batches
from ground.batch_schemas import NewBatch

_names = itertools.count()


def _own_token_id(database, username):
    token = token_for(database, username)
    with database.transaction() as session:
        return session.scalar(select(ApiToken.id).where(ApiToken.token_hash == hash_token(token)))


def _user_id(database, _username):
    user = add_user(database, f"target-{next(_names)}", "viewer")
    return user.id


def _a_robot(database, _username) -> dict:
    """A robot (and its target) for a fleet-wide command to select; no path argument."""
    robot_id = uuid.uuid4()
    with database.transaction() as session:
        session.add(Robot(id=robot_id, name=f"robot-{next(_names)}", owner="o",
                          owner_email="o@example.com"))
        session.add(Target(id=str(robot_id), kind="robot", name="robot"))
    return {}


def _batch_id(database, username):
    _a_robot(database, username)
    with database.transaction() as session:
        return batches.create(session, NewBatch(command_name="PING", selector={}), "tester",
                              max_targets=10, approval_policy="none").id


def _awaiting_batch(database, username):
    """A batch of a hazardous command, awaiting approval, sent by someone else."""
    _a_robot(database, username)
    with database.transaction() as session:
        batch = batches.create(session, NewBatch(command_name="REBOOT", selector={},
                                                 confirm=True), "tester", max_targets=10,
                               approval_policy="hazardous")
    return {"batch_id": batch.id}
def _held_by(database, username):
    """The spacecraft, under the control of ``username`` (whoever calls releases their own)."""
    from mission_control.authority_models import TargetControl
    from mission_control.timeutil import utcnow

    with database.transaction() as session:
        session.merge(TargetControl(target_id="spacecraft", holder=username or "nobody",
                                    acquired_at=utcnow(),
                                    expires_at=utcnow() + timedelta(minutes=5)))
    return {"target_id": "spacecraft"}


def _awaiting(database, _username):
    return {"command_id": gen_command(database, status=Status.AWAITING_APPROVAL,
                                      command_name="REBOOT", confirmed_by="tester")}


# (method, rule, role needed, success status, path arguments, JSON body); the path argument
# functions get (database, caller's username).
ROUTES = [
    ("GET", "/api/telecommands", "viewer", 200, None, None),
    ("POST", "/api/telecommands", "operator", 201, None, {"command_name": "PING"}),
    ("GET", "/api/telecommands/<command_id>", "viewer", 200,
     lambda db, _: {"command_id": gen_command(db)}, None),
    ("PUT", "/api/telecommands/<command_id>/cancel", "operator", 200,
     lambda db, _: {"command_id": gen_command(db)}, None),
    ("POST", "/api/telecommands/<command_id>/approve", "operator", 200, _awaiting, None),
    ("POST", "/api/telecommands/<command_id>/reject", "operator", 200, _awaiting,
     {"reason": "not now"}),
    ("POST", "/api/targets/<target_id>/control", "operator", 200,
     lambda db, _: {"target_id": "spacecraft"}, None),
    ("DELETE", "/api/targets/<target_id>/control", "operator", 204, _held_by, None),
    ("GET", "/api/targets/<target_id>/control", "viewer", 200,
     lambda db, _: {"target_id": "spacecraft"}, None),
    ("GET", "/api/controls", "viewer", 200, None, None),
    ("GET", "/api/catalog", "viewer", 200, None, None),
    ("GET", "/api/batches", "viewer", 200, None, None),
    ("POST", "/api/batches/<batch_id>/approve", "operator", 200, _awaiting_batch, None),
    ("POST", "/api/batches/<batch_id>/cancel", "operator", 200,
     lambda db, name: {"batch_id": _batch_id(db, name)}, None),
    ("POST", "/api/batches", "operator", 201, _a_robot,
     {"command_name": "PING", "selector": {}}),
    ("GET", "/api/batches/<batch_id>", "viewer", 200,
     lambda db, name: {"batch_id": _batch_id(db, name)}, None),
    ("GET", "/api/targets", "viewer", 200, None, None),
    ("GET", "/api/workers", "viewer", 200, None, None),
    ("GET", "/api/targets/<target_id>/passes", "viewer", 200,
     lambda db, _: {"target_id": "spacecraft"}, None),
    ("PUT", "/api/targets/<target_id>/passes", "admin", 200,
     lambda db, _: {"target_id": "spacecraft"},
     {"passes": [{"start_at": "2099-01-01T00:00:00Z", "end_at": "2099-01-01T00:10:00Z"}]}),
    ("GET", "/api/fleet", "viewer", 200, None, None),
    ("GET", "/api/limits", "viewer", 200, None, None),
    ("PUT", "/api/limits", "admin", 200, None,
     {"source": "spacecraft", "parameter": "temperature", "yellow_high": 50.0}),
    ("GET", "/api/alerts", "viewer", 200, None, None),
    ("GET", "/api/alerts/<alert_id>", "viewer", 200,
     lambda db, _: {"alert_id": gen_alert(db)}, None),
    ("POST", "/api/alerts/<alert_id>/acknowledge", "operator", 200,
     lambda db, _: {"alert_id": gen_alert(db)}, {"comment": "seen"}),
    ("POST", "/api/alerts/<alert_id>/resolve", "operator", 200,
     lambda db, _: {"alert_id": gen_alert(db)}, None),
    ("POST", "/api/alerts/<alert_id>/shelve", "operator", 200,
     lambda db, _: {"alert_id": gen_alert(db)}, {"duration_s": 60}),
    ("POST", "/api/telemetry", "operator", 201, None,
     {"points": [{"source": "spacecraft", "parameter": "temperature", "value": 1.0}]}),
    ("GET", "/api/telemetry", "viewer", 200, None, None),
    ("GET", "/api/telemetry/latest", "viewer", 200, None, None),
    ("GET", "/api/telemetry.csv", "viewer", 200, None, None),
    ("GET", "/api/reports/telecommands.csv", "viewer", 200, None, None),
    ("GET", "/api/stacks", "viewer", 200, None, None),
    ("POST", "/api/stacks", "operator", 201, None,
     {"target": "spacecraft", "steps": [{"command_name": "PING", "wait_for": "EXECUTED"}]}),
    ("GET", "/api/stacks/<stack_id>", "viewer", 200,
     lambda db, _: {"stack_id": gen_stack(db)}, None),
    ("POST", "/api/stacks/<stack_id>/cancel", "operator", 200,
     lambda db, _: {"stack_id": gen_stack(db)}, None),
    ("GET", "/api/auth/me", "viewer", 200, None, None),
    ("GET", "/api/auth/tokens", "viewer", 200, None, None),
    ("DELETE", "/api/auth/tokens/<token_id>", "viewer", 204,
     lambda db, name: {"token_id": _own_token_id(db, name)}, None),
    ("GET", "/api/users", "admin", 200, None, None),
    ("POST", "/api/users", "admin", 201, None,
     lambda: {"username": f"new-{next(_names)}", "password": "long enough pw"}),
    ("PATCH", "/api/users/<user_id>", "admin", 200,
     lambda db, name: {"user_id": _user_id(db, name)}, {"role": "operator"}),
]
QUERIES = {"/api/telemetry": "?source=spacecraft&parameter=temperature",  # required ones
           "/api/telemetry/latest": "?source=spacecraft",
           "/api/telemetry.csv": "?source=spacecraft"}
OPEN = {("POST", "/api/auth/tokens")}  # signs in: checks the password itself
CALLERS = ["nobody", "viewer", "operator", "admin", "revoked", "expired", "disabled"]
RANK = CALLER_ROLES


def _expected(caller: str, needed: str, success: int) -> int:
    if caller not in RANK:
        return 401
    return success if RANK[caller] >= RANK[needed] else 403


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("method,rule,needed,success,path_args,body", ROUTES,
                         ids=[f"{m} {r}" for m, r, *_ in ROUTES])
def test_each_route_answers_each_caller_as_specified(app, database, caller, method, rule,
                                                     needed, success, path_args, body):
    token, name = caller_token(database, caller)
    path = rule
    for key, value in (path_args(database, name) if path_args else {}).items():
        path = path.replace(f"<{key}>", str(value))
    path += QUERIES.get(rule, "") if method == "GET" else ""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    json_body = body() if callable(body) else body

    response = app.test_client().open(path, method=method, json=json_body, headers=headers)

    expected = _expected(caller, needed, success)
    if expected in (401, 403):
        body = assert_error(response, expected)
        if expected == 401:
            assert response.headers["WWW-Authenticate"].startswith("Bearer")
        else:
            assert body["required_role"] == needed and needed in body["message"]
    else:
        assert response.status_code == expected, response.get_data(as_text=True)


def test_no_api_route_escapes_the_matrix(app):
    listed = {(m, r) for m, r, *_ in ROUTES} | OPEN
    served = {(method, rule.rule) for rule in app.url_map.iter_rules()
              if rule.rule.startswith("/api/")
              for method in rule.methods - {"HEAD", "OPTIONS"}}

    assert served == listed


def test_a_refused_write_leaves_nothing_behind(app, database):
    viewer, _ = caller_token(database, "viewer")
    command_id = gen_command(database)

    for method, path, body in (("POST", "/api/telecommands", {"command_name": "PING"}),
                               ("PUT", f"/api/telecommands/{command_id}/cancel", None),
                               ("POST", "/api/users", {"username": "x1", "password": "y" * 10}),
                               ("POST", "/api/stacks", {"target": "spacecraft", "steps": [
                                   {"command_name": "PING", "wait_for": "EXECUTED"}]})):
        assert_error(app.test_client().open(path, method=method, json=body,
                                            headers={"Authorization": f"Bearer {viewer}"}), 403)

    with database.transaction() as session:
        from mission_control.models import Telecommand

        assert [c.status for c in session.scalars(select(Telecommand))] == ["READY"]
        assert session.scalar(select(User).where(User.username == "x1")) is None


@pytest.mark.parametrize("path", ["/health", "/metrics", "/openapi.json", "/docs",
                                  "/docs/static/init.js", "/static/app.css", "/login"])
def test_what_stays_open_without_credentials(anonymous, path):
    assert anonymous.get(path).status_code == 200


def test_an_unknown_path_is_a_plain_404_for_anyone(anonymous):
    assert_error(anonymous.get(f"/api/{uuid.uuid4()}"), 404)
