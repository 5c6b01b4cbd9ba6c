"""``mc-migrate``'s first admin and the ``mc-users`` CLI, run as processes on both databases."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest
from sqlalchemy import select

from mission_control import auth, keys
from mission_control.auth_models import User
from mission_control.db import Database
from mission_control.settings import Settings
from mission_control.testing import add_user, run_together


def run(module: str, *args: str, env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", module, *args], input=stdin, text=True,
                          capture_output=True, timeout=120,
                          env={**os.environ, "LOG_LEVEL": "INFO", **env})


def users_cli(*args: str, database: Database, stdin: str = "") -> subprocess.CompletedProcess:
    return run("mission_control.users_cli", *args, env={"DATABASE_URL": database.url},
               stdin=stdin)


@pytest.fixture
def environment(empty_database_url, tmp_path):
    env = {"DATABASE_URL": empty_database_url, "VAR_DIR": str(tmp_path / "var")}
    os.environ.pop("ADMIN_PASSWORD", None)
    return env


# mc-migrate also makes the spacecraft's service account (service_token.py)
SERVICE_USER = ("spacecraft", "operator")


def _users(url: str) -> list[tuple[str, str]]:
    database = Database(url)
    try:
        with database.transaction() as session:
            return [(u.username, u.role)
                    for u in session.scalars(select(User).order_by(User.username_key))]
    finally:
        database.dispose()


def test_migrate_creates_admin_with_a_generated_password_in_a_private_file(environment):
    done = run("mission_control.migrate", env=environment)

    assert done.returncode == 0, done.stderr
    path = os.path.join(environment["VAR_DIR"], "initial-admin-password")
    password = open(path).read().strip()
    assert len(password) >= 32
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert password not in done.stderr and path in done.stderr  # the log says where, not what
    assert _users(environment["DATABASE_URL"]) == [("admin", "admin"), SERVICE_USER]
    database = Database(environment["DATABASE_URL"])
    try:
        assert auth.sign_in(database, "admin", password).username == "admin"
    finally:
        database.dispose()

    again = run("mission_control.migrate", env=environment)
    assert again.returncode == 0, again.stderr
    assert open(path).read().strip() == password and password not in again.stderr
    assert _users(environment["DATABASE_URL"]) == [("admin", "admin"), SERVICE_USER]


def test_migrate_takes_admin_password_from_the_environment_and_never_logs_it(environment):
    done = run("mission_control.migrate", env={**environment, "ADMIN_PASSWORD": "from the env 123"})

    assert done.returncode == 0, done.stderr
    assert "from the env 123" not in done.stderr + done.stdout
    assert not os.path.exists(os.path.join(environment["VAR_DIR"], "initial-admin-password"))
    database = Database(environment["DATABASE_URL"])
    try:
        assert auth.sign_in(database, "admin", "from the env 123").role == "admin"
    finally:
        database.dispose()


def test_a_too_short_admin_password_is_refused_and_no_admin_is_made(environment):
    done = run("mission_control.migrate", env={**environment, "ADMIN_PASSWORD": "Zq7#x"})

    assert done.returncode != 0
    assert "ADMIN_PASSWORD" in done.stderr and "Zq7#x" not in done.stderr
    assert _users(environment["DATABASE_URL"]) == []


def test_users_are_created_listed_changed_and_disabled(database):
    created = users_cli("create", "Ada", "--role", "operator", "--password-stdin",
                        database=database, stdin="a long password\n")
    assert created.returncode == 0, created.stderr
    assert "a long password" not in created.stdout + created.stderr

    listed = users_cli("list", database=database)
    assert listed.returncode == 0 and "Ada" in listed.stdout and "operator" in listed.stdout
    assert "argon2" not in listed.stdout

    assert users_cli("set-role", "ada", "admin", database=database).returncode == 0
    assert auth.sign_in(database, "ADA", "a long password").role == "admin"
    add_user(database, "root", "admin")
    assert users_cli("disable", "ada", database=database).returncode == 0
    with pytest.raises(auth.LoginRefused):
        auth.sign_in(database, "ada", "a long password")


def test_a_token_is_printed_once_and_works(database):
    add_user(database, "ada", "viewer")

    done = users_cli("token", "ada", "--label", "ci", "--expires-in", "600", database=database)

    assert done.returncode == 0, done.stderr
    token = done.stdout.strip()
    identity = auth.identify(database, token)
    assert identity is not None and (identity.username, identity.role) == ("ada", "viewer")


@pytest.mark.parametrize("args,stdin,message", [
    (("create", "ada", "--role", "operator", "--password-stdin"), "short\n", "password"),
    (("create", "a b", "--role", "operator", "--password-stdin"), "long enough pw\n", "username"),
    (("set-role", "nobody", "admin"), "", "no user"),
    (("token", "nobody"), "", "no user"),
    (("token", "ada", "--expires-in", "0"), "", "--expires-in"),
    (("disable", "ada"), "", "last active admin"),
    (("create", "ADA", "--role", "viewer", "--password-stdin"), "long enough pw\n", "exists"),
])
def test_refusals_say_why_and_change_nothing(database, args, stdin, message):
    add_user(database, "ada", "admin")

    done = users_cli(*args, database=database, stdin=stdin)

    assert done.returncode != 0
    assert message in done.stderr
    with database.transaction() as session:
        assert [(u.username, u.role, u.disabled) for u in session.scalars(select(User))] == \
            [("ada", "admin", False)]


def test_a_bad_role_is_refused_by_the_parser(database):
    done = users_cli("create", "ada", "--role", "root", database=database)

    assert done.returncode == 2 and "invalid choice" in done.stderr


# --- generated service keys ------------------------------------------------------------------

def test_concurrent_first_uses_agree_on_one_private_key(tmp_path):
    settings = Settings(var_dir=tmp_path / "var")

    found = run_together(lambda _: keys.uplink_key(settings), count=8)

    assert len(set(found)) == 1 and len(found[0]) >= 43
    path = tmp_path / "var" / keys.UPLINK_KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in (tmp_path / "var").iterdir()) == [keys.UPLINK_KEY_FILE]


def test_a_key_from_the_environment_wins_and_writes_no_file(tmp_path):
    settings = Settings(var_dir=tmp_path / "var", uplink_key="from-the-env", secret_key="s" * 40)

    assert keys.uplink_key(settings) == "from-the-env"
    assert keys.secret_key(settings) == "s" * 40
    assert not (tmp_path / "var").exists()


def test_keys_compare_in_constant_time_and_refuse_missing_or_odd_values():
    assert keys.same_secret("abc", "abc")
    assert not keys.same_secret(None, "abc")
    assert not keys.same_secret("abd", "abc")
    assert not keys.same_secret("\ud800", "abc")
