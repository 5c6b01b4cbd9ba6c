"""Who is calling: roles, tokens and password sign-in. Nothing here knows HTTP (authweb.py does).

Roles are ordered, each allowing what the one before it does: ``viewer`` reads, ``operator``
also sends and cancels telecommands, ``admin`` also manages users and writes the registry.

A token is ``mc_`` and 43 random URL-safe characters (256 bits). Only its SHA-256 is stored,
so checking one is a single indexed lookup: no argon2 on the request path. Every check reads
the database, so a revoked or expired token, or any token of a disabled user, is refused on
its next use.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import bindparam, select

from . import metrics, throttle
from .auth_models import ApiToken, User
from .db import Database
from .passwords import HashingBusy, verify_password
from .timeutil import UTCDateTime, isoformat, utcnow
from .token_cache import TokenCache

ROLES = ("viewer", "operator", "admin")
TOKEN_PREFIX = "mc_"
LOGIN_SCOPE = "login"
API, SESSION = "api", "session"  # the kinds of token
MAX_TOKEN_TTL_S = 10 * 365 * 24 * 3600
recent = TokenCache()  # identities of tokens seen lately, in this process
REFUSAL_REASONS = ("bad_credentials", "disabled", "throttled", "busy", "malformed")
LOGINS_REFUSED = metrics.counter(
    "mc_logins_refused_total", "Password sign-ins refused, by reason: " +
    ", ".join(REFUSAL_REASONS), ["reason"])
for _reason in REFUSAL_REASONS:  # every reason shows, at 0 until it happens
    LOGINS_REFUSED.labels(_reason)


def login_refused(reason: str) -> None:
    """Count a refused password sign-in (``mc_logins_refused_total``)."""
    LOGINS_REFUSED.labels(reason).inc()


def role_allows(role: str, needed: str) -> bool:
    """Whether ``role`` may do what ``needed`` may (roles are ordered)."""
    return role in ROLES and ROLES.index(role) >= ROLES.index(needed)


@dataclass(frozen=True)
class Identity:
    """An authenticated caller: a user through one of their tokens."""

    user_id: uuid.UUID
    username: str
    role: str
    token_id: uuid.UUID
    token_kind: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def to_json(self) -> dict[str, Any]:
        return {"id": str(self.user_id), "username": self.username, "role": self.role}


class LoginRefused(Exception):
    """Unknown user, wrong password or disabled user: one answer for all three."""


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def looks_like_token(secret: str) -> bool:
    return secret.startswith(TOKEN_PREFIX) and 20 <= len(secret) <= 200


# One statement, built once: checking a token is the hot path of every request.
_IDENTIFY = (select(ApiToken.id, ApiToken.kind, ApiToken.expires_at, User.id, User.username,
                    User.role)
             .join(User, User.id == ApiToken.user_id)
             .where(ApiToken.token_hash == bindparam("token_hash"),
                    ApiToken.kind == bindparam("kind"), ApiToken.revoked_at.is_(None),
                    User.disabled.is_(False))
             .where(ApiToken.expires_at.is_(None)
                    | (ApiToken.expires_at > bindparam("now", type_=UTCDateTime))))


def identify(database: Database, secret: str | None, kind: str = API) -> Identity | None:
    """The identity behind a token secret of ``kind``, or None when it is unknown, revoked,
    expired, of another kind, or its user is disabled. A token seen in the last CACHE_S is
    answered from this process's memory (cache.py): at most that late does a revocation or
    a disabled user elsewhere take effect here; here it takes effect at once."""
    if not secret or not looks_like_token(secret):
        return None
    token_hash = hash_token(secret)
    cached = recent.get((token_hash, kind))
    if cached is not None:
        return cached
    with database.autocommit() as connection:
        row = connection.execute(_IDENTIFY, {"token_hash": token_hash, "kind": kind,
                                             "now": utcnow()}).first()
    if row is None:
        return None
    token_id, token_kind, expires_at, user_id, username, role = row
    identity = Identity(user_id=user_id, username=username, role=role, token_id=token_id,
                        token_kind=token_kind)
    recent.put((token_hash, kind), identity, expires_at)
    return identity


def sign_in(database: Database, username: str, password: str) -> Any:
    """The user (id, username, role) with these credentials, or LoginRefused (throttle.Throttled after too many
    failures for this name, whether or not it exists, and then even for the right password).

    The password is checked outside any transaction (it is slow), and checked even when no
    such user exists, so the time taken does not tell whether the name exists either.
    """
    subject = throttle.subject_of(username)
    try:
        throttle.check(database, LOGIN_SCOPE, subject)
    except throttle.Throttled:
        login_refused("throttled")
        raise
    with database.autocommit() as connection:
        user = connection.execute(
            select(User.id, User.username, User.role, User.password_hash, User.disabled)
            .where(User.username_key == username.casefold())).first()
    stored = user.password_hash if user is not None else None
    try:
        matches = verify_password(stored, password)
    except HashingBusy:
        login_refused("busy")
        raise
    if not matches or user is None or user.disabled:
        throttle.record_failure(database, LOGIN_SCOPE, subject)
        login_refused("disabled" if matches and user is not None else "bad_credentials")
        raise LoginRefused("wrong username or password")
    throttle.clear(database, LOGIN_SCOPE, subject)
    return user


def issue_token(database: Database, user_id: uuid.UUID, *, kind: str = API,
                label: str | None = None, expires_in_s: float | None = None,
                ) -> tuple[dict[str, Any], str]:
    """A new token for the user: its description and its secret (shown once, never stored)."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    expires_at = now + timedelta(seconds=expires_in_s) if expires_in_s else None
    token = ApiToken(id=uuid.uuid4(), user_id=user_id, token_hash=hash_token(secret), kind=kind,
                     label=label, created_at=now, expires_at=expires_at)
    with database.transaction() as session:
        session.add(token)
    return token_json(token), secret


def token_json(token: ApiToken, username: str | None = None) -> dict[str, Any]:
    data = {"id": str(token.id), "label": token.label, "kind": token.kind,
            "created_at": isoformat(token.created_at),
            "expires_at": isoformat(token.expires_at), "revoked_at": isoformat(token.revoked_at),
            "user_id": str(token.user_id)}
    if username is not None:
        data["username"] = username
    return data


def list_tokens(database: Database, user_id: uuid.UUID | None) -> list[dict[str, Any]]:
    """Tokens of one user (or everyone's, for None), newest first, without their secrets."""
    query = (select(ApiToken, User.username).join(User, User.id == ApiToken.user_id)
             .order_by(ApiToken.created_at.desc(), ApiToken.id))
    if user_id is not None:
        query = query.where(ApiToken.user_id == user_id)
    with database.transaction() as session:
        return [token_json(token, username) for token, username in session.execute(query)]


def revoke(database: Database, token_id: uuid.UUID, by: Identity) -> bool:
    """Revoke a token of ``by``'s own (any token, for an admin); False when there is no
    such token that they may revoke. Revoking twice is harmless."""
    with database.transaction() as session:
        token = session.get(ApiToken, token_id)
        if token is None or (token.user_id != by.user_id and not by.is_admin):
            return False
        if token.revoked_at is None:
            token.revoked_at = utcnow()
    recent.forget(token_id=token_id)
    return True
