"""The spacecraft's telemetry token (service_token.py): ensured by mc-migrate, generated once
into var/ or taken from TELEMETRY_TOKEN, hashed, never a password sign-in."""

from __future__ import annotations

import stat

import pytest
from sqlalchemy import select, update

from mission_control import auth
from mission_control.auth_models import ApiToken
from mission_control.service_token import (
    SERVICE_USER, TOKEN_FILE, ensure_telemetry_token, telemetry_token,
)
from mission_control.settings import Settings
from mission_control.timeutil import utcnow


def settings(database, tmp_path, **values) -> Settings:
    return Settings(database_url=database.url, var_dir=tmp_path, **values)


def test_a_generated_token_is_written_once_to_var_and_identifies_the_service_user(database,
                                                                                  tmp_path):
    ensure_telemetry_token(database, settings(database, tmp_path))
    path = tmp_path / TOKEN_FILE
    token = path.read_text().strip()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    identity = auth.identify(database, token)
    assert (identity.username, identity.role) == (SERVICE_USER, "operator")
    ensure_telemetry_token(database, settings(database, tmp_path))  # again: nothing new
    assert path.read_text().strip() == token
    with database.transaction() as session:
        assert len(session.scalars(select(ApiToken)).all()) == 1
        stored = session.scalar(select(ApiToken.token_hash))
    assert stored == auth.hash_token(token) and token not in stored


def test_the_configured_token_is_registered_and_no_file_is_written(database, tmp_path):
    configured = "mc_" + "k" * 40
    ensure_telemetry_token(database, settings(database, tmp_path, telemetry_token=configured))
    assert not (tmp_path / TOKEN_FILE).exists()
    assert telemetry_token(settings(database, tmp_path, telemetry_token=configured)) == configured
    assert auth.identify(database, configured).username == SERVICE_USER


def test_a_revoked_token_stays_revoked(database, tmp_path):
    ensure_telemetry_token(database, settings(database, tmp_path))
    with database.transaction() as session:
        session.execute(update(ApiToken).values(revoked_at=utcnow()))
    auth.recent.clear()
    ensure_telemetry_token(database, settings(database, tmp_path))
    assert auth.identify(database, telemetry_token(settings(database, tmp_path))) is None


def test_an_unusable_configured_token_stops_mc_migrate(database, tmp_path):
    with pytest.raises(SystemExit, match="TELEMETRY_TOKEN"):
        ensure_telemetry_token(database, settings(database, tmp_path, telemetry_token="short"))


def test_nobody_signs_in_as_the_service_user_with_a_password(database, tmp_path):
    ensure_telemetry_token(database, settings(database, tmp_path))
    for password in ("", "!", "!no-password: a service account signs in with its token only"):
        with pytest.raises(auth.LoginRefused):
            auth.sign_in(database, SERVICE_USER, password)
