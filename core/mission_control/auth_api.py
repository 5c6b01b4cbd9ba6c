"""The authentication and user API, the same on ground and registry-api (one token works on
both): /api/auth/tokens, /api/auth/me, /api/users. Routes parse, call auth/users, answer."""

from __future__ import annotations

import uuid

from flask import Blueprint, current_app
from sqlalchemy.exc import IntegrityError

from . import auth, users
from .auth_schemas import NewToken, NewUser, UserChange
from .authweb import current_identity, public, requires, unauthorized
from .db import Database
from .passwords import hash_password
from .throttle import Throttled
from .web import ApiError, error_response, parse_body, retry_later

bp = Blueprint("auth", __name__, url_prefix="/api")


def database() -> Database:
    return current_app.extensions["database"]


@bp.errorhandler(Throttled)
def _throttled(error: Throttled):
    return retry_later(429, "too_many_attempts",
                       "too many failed sign-ins for this username; try again later",
                       error.retry_after, retry_after_s=error.retry_after)


@bp.errorhandler(users.UserError)
def _user_error(error: users.UserError):
    extra = {"fields": [{"field": error.field, "message": error.message}]} if error.field else {}
    return error_response(error.status, error.error, error.message, **extra)


def _uuid(raw: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise ApiError(404, "not_found", f"no {what} with id {raw[:100]!r}") from None


@bp.post("/auth/tokens")
@public
def create_token():
    """Sign in with a username and password; 201 with a new bearer token, shown only here."""
    body = parse_body(NewToken)
    try:
        user = auth.sign_in(database(), body.username, body.password)
    except auth.LoginRefused as refused:
        return unauthorized(str(refused))
    token, secret = auth.issue_token(database(), user.id, label=body.label,
                                     expires_in_s=body.expires_in_s)
    return ({"id": token["id"], "token": secret, "username": user.username, "role": user.role,
             "expires_at": token["expires_at"]}, 201)


@bp.get("/auth/me")
def me():
    """The signed-in user and their role."""
    identity = current_identity()
    return {**identity.to_json(), "token_id": str(identity.token_id)}


@bp.get("/auth/tokens")
def list_tokens():
    """Your tokens (an admin's: everyone's), newest first; never their secrets."""
    identity = current_identity()
    items = auth.list_tokens(database(), None if identity.is_admin else identity.user_id)
    return {"items": items}


@bp.delete("/auth/tokens/<token_id>")
@requires("viewer")
def revoke_token(token_id: str):
    """Revoke one of your tokens (an admin: anyone's); it stops working at once."""
    if not auth.revoke(database(), _uuid(token_id, "token"), current_identity()):
        raise ApiError(404, "not_found", f"no token of yours with id {token_id[:100]!r}")
    return "", 204


@bp.get("/users")
@requires("admin")
def list_users():
    """Every user, by name."""
    with database().transaction() as session:
        return {"items": [users.to_json(u) for u in users.all_users(session)]}


@bp.post("/users")
def create_user():
    """Create a user with a role (admin)."""
    body = parse_body(NewUser)
    password_hash = hash_password(body.password)  # before the transaction: it is slow
    try:
        with database().transaction() as session:
            data = users.to_json(users.create(session, body.username, body.role, password_hash))
    except IntegrityError:  # the same name created at the same moment by someone else
        raise users.UserError(409, "name_taken", f"a user named {body.username!r} exists "
                                                 "already", "username") from None
    return data, 201, {"Location": f"/api/users/{data['id']}"}


@bp.patch("/users/<user_id>")
def change_user(user_id: str):
    """Change a user's role, disabled flag or password (admin). The last active admin can be
    neither demoted nor disabled (409). A new password, or disabling, ends their tokens' use."""
    parsed = _uuid(user_id, "user")
    body = parse_body(UserChange)
    password_hash = hash_password(body.password) if body.password is not None else None
    with database().transaction() as session:
        user = users.find(session, user_id=parsed)
        users.update(session, user, role=body.role, disabled=body.disabled,
                     password_hash=password_hash)
        return users.to_json(user)
