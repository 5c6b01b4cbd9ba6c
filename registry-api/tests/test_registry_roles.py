"""The role matrix of registry-api: every route x every kind of caller answers as specified.

Callers: nobody, a viewer, an operator, an admin, three whose token no longer works (revoked,
expired, of a disabled user), and a service presenting the UPLINK_KEY. Reads need a viewer,
writes an admin; the UPLINK_KEY opens verify-password and nothing else. The resource routes
are generated from RESOURCES like the API's own, and the matrix must equal the app's url_map,
so no route escapes it.
"""

from __future__ import annotations

import itertools
from typing import Any, Callable

import pytest
from sqlalchemy import func, select

from mission_control import keys
from mission_control.auth import hash_token
from mission_control.auth_models import ApiToken
from mission_control.registry_models import RegistryEvent
from mission_control.testing import (
    CALLER_ROLES, add_user, assert_error, bearer, caller_token, token_for,
)
from registry_api.resources import RESOURCES

from .conftest import PREFIX, Registry, required_fields


ROBOT_PASSWORD = "robot password 1"
_names = itertools.count()


class World:
    """What the routes' requests point at: one row of each resource (made by an admin)."""

    def __init__(self, database, registry: Registry) -> None:
        self.database, self.registry = database, registry
        self.ids = {"workspaces": registry.workspace()["id"]}
        self.ids["projects"] = registry.project(workspace_id=self.ids["workspaces"])["id"]
        self.ids["levels"] = registry.level(project_id=self.ids["projects"])["id"]
        self.ids["robots"] = registry.robot(level_id=self.ids["levels"],
                                            password=ROBOT_PASSWORD)["id"]
        self.ids["modules"] = registry.module(robot_id=self.ids["robots"])["id"]
        self.ids["fixed-assets"] = registry.fixed_asset(level_id=self.ids["levels"])["id"]


# A route: (method, rule, role needed, success status, path arguments, JSON body). Path
# arguments and bodies are functions of (world, caller's username), called per request, so a
# DELETE gets a fresh row and a POST a fresh name.
Route = tuple[str, str, str, int, Callable[[World, str], dict] | None,
              Callable[[World, str], Any] | None]


def _resource_routes(path: str) -> list[Route]:
    resource = RESOURCES[path]
    base, item = f"{PREFIX}/{path}", f"{PREFIX}/{path}/<item_id>"

    def new_body(world: World, _name: str) -> dict:
        parent = {resource.parent_field: world.ids[resource.parent]} if resource.parent else {}
        return {"name": f"new-{next(_names)}", **parent, **required_fields(path)}

    def existing(world: World, _name: str) -> dict:
        return {"item_id": world.ids[path]}

    def fresh(world: World, _name: str) -> dict:
        return {"item_id": world.registry.of(path)["id"]}

    return [
        ("POST", base, "admin", 201, None, new_body),
        ("GET", base, "viewer", 200, None, None),
        ("GET", item, "viewer", 200, existing, None),
        ("PATCH", item, "admin", 200, existing, lambda w, n: {"name": f"renamed-{next(_names)}"}),
        ("DELETE", item, "admin", 204, fresh, None),
    ]


def _own_token_id(world: World, username: str) -> dict:
    token = token_for(world.database, username)
    with world.database.transaction() as session:
        return {"token_id": session.scalar(select(ApiToken.id).where(
            ApiToken.token_hash == hash_token(token)))}


def _some_user(world: World, _name: str) -> dict:
    return {"user_id": add_user(world.database, f"target-{next(_names)}", "viewer").id}


ROUTES: list[Route] = [route for path in RESOURCES for route in _resource_routes(path)] + [
    ("POST", f"{PREFIX}/robots/<item_id>/verify-password", "admin", 204,
     lambda w, n: {"item_id": w.ids["robots"]}, lambda w, n: {"password": ROBOT_PASSWORD}),
    ("GET", f"{PREFIX}/events", "viewer", 200, None, None),
    ("GET", "/api/auth/me", "viewer", 200, None, None),
    ("GET", "/api/auth/tokens", "viewer", 200, None, None),
    ("DELETE", "/api/auth/tokens/<token_id>", "viewer", 204, _own_token_id, None),
    ("GET", "/api/users", "admin", 200, None, None),
    ("POST", "/api/users", "admin", 201, None,
     lambda w, n: {"username": f"new-{next(_names)}", "password": "long enough pw"}),
    ("PATCH", "/api/users/<user_id>", "admin", 200, _some_user, lambda w, n: {"role": "operator"}),
]
SERVICE_ROUTES = {("POST", f"{PREFIX}/robots/<item_id>/verify-password")}  # take the UPLINK_KEY
OPEN = {("POST", "/api/auth/tokens")}  # signs in: checks the password itself
CALLERS = ["nobody", "viewer", "operator", "admin", "revoked", "expired", "disabled", "uplink"]
RANK = CALLER_ROLES


def _token(app, database, caller: str) -> tuple[str | None, str]:
    """(token, username) of a caller kind: testing.caller_token's, or the UPLINK_KEY."""
    if caller == "uplink":
        return keys.uplink_key(app.extensions["settings"]), "uplink"
    return caller_token(database, caller)


def _expected(caller: str, method: str, rule: str, needed: str, success: int) -> int:
    if caller == "uplink":
        return success if (method, rule) in SERVICE_ROUTES else 401
    if caller not in RANK:
        return 401
    return success if RANK[caller] >= RANK[needed] else 403


@pytest.mark.parametrize("method,rule,needed,success,path_args,body", ROUTES,
                         ids=[f"{m} {r}" for m, r, *_ in ROUTES])
def test_each_route_answers_each_caller_as_specified(app, database, registry, fast_hashing,
                                                     method, rule, needed, success, path_args,
                                                     body):
    world = World(database, registry)
    for caller in CALLERS:  # one test per route, the callers in turn: the setup is shared
        token, name = _token(app, database, caller)
        path = rule
        for key, value in (path_args(world, name) if path_args else {}).items():
            path = path.replace(f"<{key}>", str(value))

        response = app.test_client().open(path, method=method,
                                           json=body(world, name) if body else None,
                                           headers=bearer(token) if token else {})

        expected = _expected(caller, method, rule, needed, success)
        assert response.status_code == expected, (caller, response.get_data(as_text=True))
        if expected == 401:
            assert_error(response, 401, "unauthorized")
            assert response.headers["WWW-Authenticate"].startswith("Bearer"), caller
        elif expected == 403:
            refusal = assert_error(response, 403, "forbidden")
            assert refusal["required_role"] == needed and needed in refusal["message"], caller


def test_no_route_escapes_the_matrix(app):
    listed = {(m, r) for m, r, *_ in ROUTES} | OPEN
    served = {(method, rule.rule) for rule in app.url_map.iter_rules()
              if rule.rule.startswith("/api/")
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert served == listed


def test_a_refused_write_changes_nothing_and_records_no_event(app, database, registry):
    world = World(database, registry)
    with database.transaction() as session:
        events = session.scalar(select(func.count()).select_from(RegistryEvent))
    before = registry.client.get(f"{PREFIX}/robots/{world.ids['robots']}").get_json()
    operator = bearer(token_for(database, "operator-user", "operator"))
    client = app.test_client()
    for method, path, body in (
            ("POST", f"{PREFIX}/workspaces", {"name": "refused"}),
            ("PATCH", f"{PREFIX}/robots/{world.ids['robots']}", {"owner": "Mallory"}),
            ("DELETE", f"{PREFIX}/workspaces/{world.ids['workspaces']}?cascade=true", None)):
        assert_error(client.open(path, method=method, json=body, headers=operator), 403)
    with database.transaction() as session:
        assert session.scalar(select(func.count()).select_from(RegistryEvent)) == events
    assert registry.client.get(f"{PREFIX}/robots/{world.ids['robots']}").get_json() == before
    names = [w["name"] for w in registry.client.get(f"{PREFIX}/workspaces").get_json()["items"]]
    assert "refused" not in names


@pytest.mark.parametrize("path", ["/health", "/metrics", "/openapi.json", "/docs",
                                  "/docs/static/swagger-ui.css"])
def test_what_stays_open_without_credentials(anonymous, path):
    assert anonymous.get(path).status_code == 200


def test_an_unknown_path_is_a_plain_404_for_anyone(anonymous):
    assert_error(anonymous.get(f"{PREFIX}/no-such-thing"), 404)
