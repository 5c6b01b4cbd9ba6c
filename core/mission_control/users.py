"""User management: create, list, change role, disable, set a password; the first admin.

Shared by the API (auth_api.py) and the shell (``mc-users``, users_cli.py). Passwords are
hashed by the callers before they call in here (hashing is slow and must not hold a lock).
"""

from __future__ import annotations

import logging
import re
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import auth
from .auth import ROLES
from .auth_models import ApiToken, User
from .db import Database
from .keys import new_secret, write_secret_file
from .passwords import hash_password
from .settings import Settings
from .timeutil import isoformat, utcnow
from .validation import text_problem

log = logging.getLogger(__name__)

USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
USERNAME_RULE = "1 to 64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit"
MIN_PASSWORD, MAX_PASSWORD = 8, 1024
PASSWORD_RULE = f"{MIN_PASSWORD} to {MAX_PASSWORD} characters"
FIRST_ADMIN = "admin"
ADMIN_PASSWORD_FILE = "initial-admin-password"


class UserError(Exception):
    """A change refused for a reason the caller can fix: ``status`` 404, 409 or 422."""

    def __init__(self, status: int, error: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status, self.error, self.message, self.field = status, error, message, field


def username_problem(name: str) -> str | None:
    return None if USERNAME.fullmatch(name) else f"a username is {USERNAME_RULE}"


def password_problem(password: str) -> str | None:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        return f"a password is {PASSWORD_RULE}"
    problem = text_problem(password)
    return f"a password {problem}" if problem else None


def to_json(user: User) -> dict[str, Any]:
    return {"id": str(user.id), "username": user.username, "role": user.role,
            "disabled": user.disabled, "created_at": isoformat(user.created_at),
            "updated_at": isoformat(user.updated_at)}


def create(session: Session, username: str, role: str, password_hash: str) -> User:
    if role not in ROLES:
        raise UserError(422, "validation_error", f"role must be one of {', '.join(ROLES)}", "role")
    if session.scalar(select(User.id).where(User.username_key == username.casefold())):
        raise UserError(409, "name_taken", f"a user named {username!r} exists already",
                        "username")
    now = utcnow()
    user = User(id=uuid.uuid4(), username=username, username_key=username.casefold(),
                password_hash=password_hash, role=role, disabled=False, created_at=now,
                updated_at=now)
    session.add(user)
    session.flush()
    return user


def all_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.username_key)))


def last_sign_ins(session: Session) -> dict[uuid.UUID, datetime]:
    """When each user last signed in to the page (their newest session), by user id."""
    return dict(session.execute(select(ApiToken.user_id, func.max(ApiToken.created_at))
                                .where(ApiToken.kind == auth.SESSION)
                                .group_by(ApiToken.user_id)).all())


def find(session: Session, *, user_id: uuid.UUID | None = None,
         username: str | None = None) -> User:
    if user_id is not None:
        user = session.get(User, user_id)
    else:
        user = session.scalar(select(User).where(User.username_key == (username or "").casefold()))
    if user is None:
        raise UserError(404, "not_found", f"no user {user_id or username!r}")
    return user


def update(session: Session, user: User, *, role: str | None = None,
           disabled: bool | None = None, password_hash: str | None = None) -> User:
    """Change a user. The last active admin can be neither demoted nor disabled (409); the
    active admins are locked first, so two admins cannot demote each other at once."""
    if role is not None and role not in ROLES:
        raise UserError(422, "validation_error", f"role must be one of {', '.join(ROLES)}", "role")
    losing_admin = user.role == "admin" and not user.disabled and (
        (role is not None and role != "admin") or disabled is True)
    if losing_admin:
        admins = session.scalars(select(User.id).where(
            User.role == "admin", User.disabled.is_(False)).with_for_update()).all()
        if len(admins) <= 1:
            raise UserError(409, "last_admin",
                            f"{user.username} is the last active admin; make another admin first")
    if role is not None:
        user.role = role
    if disabled is not None:
        user.disabled = disabled
    if password_hash is not None:
        user.password_hash = password_hash
        # A new password ends every sign-in made with the old one.
        revoke_all(session, user.id)
    user.updated_at = utcnow()
    # This process forgets the user's tokens at once (others within auth's cache time); a
    # change that is rolled back only costs the next request a lookup.
    auth.recent.forget(user_id=user.id)
    return user


def revoke_all(session: Session, user_id: uuid.UUID) -> None:
    for token in session.scalars(select(ApiToken).where(ApiToken.user_id == user_id,
                                                        ApiToken.revoked_at.is_(None))):
        token.revoked_at = utcnow()


def ensure_first_admin(database: Database, settings: Settings) -> str | None:
    """When nobody can sign in yet, create ``admin``: with ADMIN_PASSWORD, or a generated
    password written to var/initial-admin-password (0600), never logged. Returns where the
    password is (None when users exist already)."""
    with database.transaction() as session:
        if session.scalar(select(func.count()).select_from(User)):
            return None
    configured = settings.admin_password.get_secret_value() if settings.admin_password else ""
    password = configured or new_secret()
    problem = password_problem(password)
    if problem:
        raise SystemExit(f"ADMIN_PASSWORD is not usable: {problem}")
    password_hash = hash_password(password)
    with database.transaction() as session:
        if session.scalar(select(func.count()).select_from(User)):
            return None  # another mc-migrate got there first
        create(session, FIRST_ADMIN, "admin", password_hash)
    if configured:
        log.info("created the first admin %r with the password from ADMIN_PASSWORD", FIRST_ADMIN)
        return "ADMIN_PASSWORD"
    path = settings.var_dir / ADMIN_PASSWORD_FILE
    path.unlink(missing_ok=True)
    write_secret_file(path, password)
    # The password itself never goes to a log (logs are collected, shipped and kept).
    log.warning("created the first admin %r with a generated password: read it in %s "
                "(mode 0600), then change it with mc-users or PATCH /api/users", FIRST_ADMIN,
                path)
    return str(path)
