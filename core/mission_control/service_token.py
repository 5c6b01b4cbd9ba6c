"""The spacecraft's account for pushing telemetry: user ``spacecraft`` (role operator, no
password: nobody signs in as it) and one API token, stored hashed like every token.

``mc-migrate`` ensures both (``ensure_telemetry_token``). The token is TELEMETRY_TOKEN when
set (the compose stack's ``.env``), else a secret generated once into ``var/telemetry-token``
(mode 0600, like the first admin's password), which the spacecraft of the same checkout reads
(``telemetry_token``). A token revoked with ``mc-users`` or the API stays revoked: mc-migrate
registers a secret only when no token with its hash exists at all.
"""

from __future__ import annotations

import logging
import secrets

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from . import auth, users
from .auth_models import ApiToken, User
from .db import Database
from .keys import write_secret_file
from .settings import Settings
from .timeutil import utcnow

log = logging.getLogger(__name__)

SERVICE_USER = "spacecraft"
TOKEN_FILE = "telemetry-token"
# Not an argon2 hash: every password check against it fails.
NO_PASSWORD = "!no-password: a service account signs in with its token only"


def telemetry_token(settings: Settings) -> str | None:
    """The spacecraft's token: TELEMETRY_TOKEN, else var/telemetry-token; None when neither."""
    if settings.telemetry_token is not None and settings.telemetry_token.get_secret_value():
        return settings.telemetry_token.get_secret_value()
    try:
        return (settings.var_dir / TOKEN_FILE).read_text().strip() or None
    except OSError:
        return None


def ensure_telemetry_token(database: Database, settings: Settings) -> None:
    """Ensure the service user and its token exist (see the module's docstring)."""
    secret = telemetry_token(settings)
    if secret is None:
        secret = auth.TOKEN_PREFIX + secrets.token_urlsafe(32)
        path = settings.var_dir / TOKEN_FILE
        if not write_secret_file(path, secret):  # another mc-migrate wrote one first
            secret = path.read_text().strip()
        log.info("generated the spacecraft's telemetry token into %s (mode 0600)", path)
    if not auth.looks_like_token(secret):
        raise SystemExit(f"TELEMETRY_TOKEN is not usable: a token starts with "
                         f"{auth.TOKEN_PREFIX!r} and has 20 to 200 characters")
    token_hash = auth.hash_token(secret)
    try:
        with database.transaction() as session:
            user = session.scalar(select(User).where(User.username_key == SERVICE_USER))
            if user is None:
                user = users.create(session, SERVICE_USER, "operator", NO_PASSWORD)
                log.info("created the service user %r (role operator, no password)",
                         SERVICE_USER)
            if session.scalar(select(ApiToken.id).where(ApiToken.token_hash == token_hash)):
                return
            session.add(ApiToken(user_id=user.id, token_hash=token_hash, kind=auth.API,
                                 label="telemetry (mc-migrate)", created_at=utcnow()))
        log.info("registered the spacecraft's telemetry token")
    except IntegrityError:  # a concurrent mc-migrate registered the same user or token
        log.info("the spacecraft's telemetry token was registered by another mc-migrate")
