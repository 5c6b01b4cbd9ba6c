"""The authentication part of every OpenAPI document (ground and registry-api alike): the
bearer scheme, the /api/auth and /api/users paths, and on every other operation the security
requirement with its 401 (and, where a role above viewer is needed, 403).

``secured(document, roles)`` is applied to a service's finished document; ``roles`` maps
(method, path) to the role an operation needs when it differs from the guard's default
(authweb: viewer for reads, admin for writes), so that 403s are documented where they happen.
"""

from __future__ import annotations

from typing import Any

from .auth_schemas import Me, NewToken, NewUser, TokenCreated, TokenList, UserChange, UserList, UserOut
from .openapi import components, error, errors, json_content, json_response

SCHEME = "bearerAuth"
SECURITY_SCHEMES = {SCHEME: {
    "type": "http", "scheme": "bearer",
    "description": "A token from POST /api/auth/tokens (or `mc-users token NAME`)."}}
PUBLIC = {("get", "/health"), ("post", "/api/auth/tokens")}
READS = {"get", "head", "options"}
METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def _uuid_parameter(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True,
            "schema": {"type": "string", "format": "uuid"}}


def auth_paths() -> dict[str, Any]:
    return {
        "/api/auth/tokens": {
            "post": {
                "summary": "Sign in: a new bearer token (shown only in this answer)",
                "operationId": "createToken",
                "requestBody": {"required": True, **json_content("NewToken")},
                "responses": {
                    "201": json_response("signed in", "TokenCreated"),
                    **errors({400: "malformed JSON", 401: "wrong username or password (the "
                              "same answer whether or not the user exists)",
                              413: "body too large", 415: "not application/json",
                              422: "a field is wrong", 429: "too many failed sign-ins for "
                              "this username (Retry-After says when to try again)",
                              503: "too many password checks at once"}),
                },
            },
            "get": {"summary": "Your tokens (an admin's: everyone's), never their secrets",
                    "operationId": "listTokens",
                    "responses": {"200": json_response("tokens", "TokenList")}},
        },
        "/api/auth/tokens/{token_id}": {"delete": {
            "summary": "Revoke a token of yours (an admin: anyone's)",
            "operationId": "revokeToken", "x-role": "viewer",
            "parameters": [_uuid_parameter("token_id")],
            "responses": {"204": {"description": "revoked"},
                          "404": error("no such token of yours")}}},
        "/api/auth/me": {"get": {"summary": "The signed-in user and role", "operationId": "me",
                                 "responses": {"200": json_response("you", "Me")}}},
        "/api/users": {
            "get": {"summary": "Every user (admin)", "operationId": "listUsers",
                    "x-role": "admin", "responses": {"200": json_response("users", "UserList")}},
            "post": {"summary": "Create a user (admin)", "operationId": "createUser",
                     "requestBody": {"required": True, **json_content("NewUser")},
                     "responses": {"201": json_response("created", "UserOut"),
                                   **errors({400: "malformed JSON", 409: "the name is taken",
                                             413: "body too large",
                                             415: "not application/json",
                                             422: "a field is wrong",
                                             503: "too many password checks at once"})}},
        },
        "/api/users/{user_id}": {"patch": {
            "summary": "Change a user's role, disabled flag or password (admin)",
            "operationId": "changeUser", "parameters": [_uuid_parameter("user_id")],
            "requestBody": {"required": True, **json_content("UserChange")},
            "responses": {"200": json_response("changed", "UserOut"),
                          **errors({400: "malformed JSON", 404: "no such user",
                                    409: "the last active admin cannot be demoted or disabled",
                                    413: "body too large", 415: "not application/json",
                                    422: "a field is wrong",
                                    503: "too many password checks at once"})}}},
    }


def auth_schemas() -> dict[str, Any]:
    schemas = components((NewToken, TokenCreated, TokenList, Me, NewUser, UserChange, UserOut,
                          UserList))
    schemas.pop("Error")
    return schemas


def secured(document: dict[str, Any],
            roles: dict[tuple[str, str], str] | None = None) -> dict[str, Any]:
    """``document`` with the auth paths added and every operation but the public ones
    requiring the bearer token. ``x-role`` on an operation, or ``roles``, names the role it
    needs (else viewer for reads, admin for writes); it is stated in the description."""
    roles = roles or {}
    document["paths"] = {**document["paths"], **auth_paths()}
    document["components"]["schemas"].update(auth_schemas())
    document["components"]["securitySchemes"] = SECURITY_SCHEMES
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if method not in METHODS:  # a path item's own "parameters", "summary", ...
                continue
            if (method, path) in PUBLIC:
                operation["security"] = []
                continue
            role = operation.pop("x-role", None) or roles.get((method, path)) or \
                ("viewer" if method in READS else "admin")
            operation["security"] = [{SCHEME: []}]
            operation["description"] = (operation.get("description", "") +
                                        f"\n\nNeeds the {role} role.").strip()
            responses = operation.setdefault("responses", {})
            responses.setdefault("401", error("no usable bearer token (WWW-Authenticate: "
                                              "Bearer)"))
            if role != "viewer":
                responses.setdefault("403", error(f"the token's user is not {role} or above"))
    return document
