"""Test helpers shared by every suite (factories); imported by tests, never by services."""
from __future__ import annotations

import os
import re
import shutil
import sys
import time
import uuid
from pathlib import Path
from typing import NoReturn

import pytest

from mission_control import lifecycle
from mission_control.db import Database
from mission_control.status import INITIAL, Status, can_transition
from mission_control.models import SPACECRAFT_TARGET_ID, Telecommand
from mission_control.timeutil import utcnow


def in_ci() -> bool:
    """CI=true: every part that may be missing elsewhere (PostgreSQL, Chromium, promtool,
    docker-compose, hadolint) is mandatory, so its absence fails the run instead of skipping."""
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def missing(message: str) -> NoReturn:
    """A part the test needs is missing: skip it with ``message``, or fail it in CI."""
    if in_ci():
        pytest.fail(message + " (required in CI)", pytrace=False)
    pytest.skip(message)


def healthy_within(url: str, timeout: float = 30) -> bool:
    """Whether ``url``/health answers 200 within ``timeout`` seconds (asked every 0.1 s)."""
    import requests  # tests only; services never import this module

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{url}/health", timeout=1).status_code == 200:
                return True
        except requests.RequestException:
            pass
        time.sleep(0.1)
    return False


def tool(name: str, install: str) -> str:
    """The path of a command-line tool: from this virtualenv, else from PATH. Missing: the
    test is skipped (failed in CI), with ``install`` saying where the tool comes from."""
    beside_python = Path(sys.executable).parent / name
    found = str(beside_python) if beside_python.exists() else shutil.which(name)
    return found or missing(f"{name} is not installed ({install})")


def gen_command(database: Database, *, status: Status = Status.READY, command_name: str = "PING",
                args: dict | None = None, due_now: bool = False,
                confirmed_by: str | None = None, request_id: str | None = None) -> uuid.UUID:
    """Insert a command directly in ``status`` (history opened), bypassing the API; a
    hazardous one is confirmed by ``confirmed_by`` (as ground's issue does); ``request_id``
    is the X-Request-ID it was created with."""
    now = utcnow()
    command_id = uuid.uuid4()
    with database.transaction() as session:
        session.add(Telecommand(id=command_id, target_id=SPACECRAFT_TARGET_ID,
                                command_name=command_name, args=args or {}, status=status.value,
                                operator="tester", confirmed_by=confirmed_by,
                                request_id=request_id,
                                created_at=now, updated_at=now,
                                transmit_at=now if due_now else None,
                                next_step_at=now if due_now else None))
        session.flush()
        lifecycle.record_creation(session, command_id, actor="tester", at=now,
                                  status=status if status in INITIAL else Status.READY)
    return command_id


def gen_stack(database: Database, *, steps: int = 2) -> uuid.UUID:
    """Insert a RUNNING stack of PING steps on the spacecraft, its first step sent."""
    from mission_control import stacks
    from mission_control.stack_models import PENDING, Stack, StackStep

    now = utcnow()
    with database.transaction() as session:
        stack = Stack(id=uuid.uuid4(), target_id=SPACECRAFT_TARGET_ID, status="RUNNING",
                      on_failure="stop", created_by="tester", created_at=now, updated_at=now)
        session.add(stack)
        session.flush()
        rows = [StackStep(stack_id=stack.id, position=n, command_name="PING", args={},
                          confirm=False, wait_for="EXECUTED", delay_s=0.0, state=PENDING)
                for n in range(1, steps + 1)]
        session.add_all(rows)
        session.flush()
        stacks.send_step(session, stack, rows[0], now, "none")
        return stack.id


def gen_alert(database: Database, *, source: str = "spacecraft",
              parameter: str = "temperature", value: float = 50.0) -> int:
    """Open a limit alert by evaluating one sample of ``value`` (default: above the
    spacecraft's yellow temperature limit); its id."""
    from sqlalchemy import select

    from mission_control.alert_models import Alert
    from mission_control.evaluate import evaluate

    with database.transaction() as session:
        evaluate(session, [{"source": source, "parameter": parameter, "value": value,
                            "time": utcnow()}])
        return session.scalar(select(Alert.id).where(
            Alert.source == source, Alert.parameter == parameter, Alert.state != "resolved"))


def history_problems(database: Database) -> list[str]:
    """Every way a command's history breaks the lifecycle; empty when all histories follow it."""
    from sqlalchemy import select

    from mission_control.models import TelecommandHistory

    problems: list[str] = []
    with database.transaction() as session:
        commands = {c.id: c.status for c in session.scalars(select(Telecommand))}
        rows = session.scalars(select(TelecommandHistory).order_by(TelecommandHistory.id)).all()
    by_command: dict = {}
    for row in rows:
        by_command.setdefault(row.telecommand_id, []).append(row)
    for command_id, status in commands.items():
        history = by_command.get(command_id, [])
        if not history or history[0].from_status is not None or \
                history[0].to_status not in INITIAL:
            problems.append(f"{command_id}: history does not open with READY or "
                            f"AWAITING_APPROVAL")
            continue
        for before, after in zip(history, history[1:]):
            if after.from_status != before.to_status or \
                    not can_transition(after.from_status, after.to_status):
                problems.append(f"{command_id}: {before.to_status} then "
                                f"{after.from_status} -> {after.to_status}")
        if history[-1].to_status != status:
            problems.append(f"{command_id}: status {status} but history ends {history[-1].to_status}")
    return problems


def run_together(work, count: int = 8) -> list:
    """Run ``work(index)`` in ``count`` threads released at the same moment; re-raise failures."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    barrier = threading.Barrier(count)

    def start(index: int):
        barrier.wait(timeout=30)
        return work(index)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return [future.result() for future in [pool.submit(start, i) for i in range(count)]]


def assert_error(response, status: int, error: str | None = None) -> dict:
    """A Flask test response is a JSON error document of ``status`` (and code ``error``), never
    an HTML page: ``{"error": <code>, "message": <text>, ...}``. Returns its body."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    assert "<html" not in response.get_data(as_text=True).lower()
    body = response.get_json()
    assert isinstance(body["error"], str) and body["error"]
    assert isinstance(body["message"], str) and body["message"]
    if error is not None:
        assert body["error"] == error
    return body


# What gunicorn lets through in a response header value (RFC 9110 field-value); anything else
# makes it fail the response after the view has run, and maybe committed, as a 500.
_SENDABLE_HEADER = re.compile(r"[ \t\x21-\x7e\x80-\xff]*")


def assert_headers_sendable(response) -> None:
    """Every header of a Flask test response is one a real server can send."""
    for name, value in response.headers.items():
        assert _SENDABLE_HEADER.fullmatch(value), f"{name}: {value!r}"


# --- users and tokens ----------------------------------------------------------------------

TEST_PASSWORD = "correct horse battery staple"
_test_hashes: dict[str, str] = {}


def cheap_hash(password: str) -> str:
    """An argon2id hash with the cheapest parameters, for users tests create by the dozen."""
    if password not in _test_hashes:
        from argon2 import PasswordHasher

        _test_hashes[password] = PasswordHasher(time_cost=1, memory_cost=64,
                                                parallelism=1).hash(password)
    return _test_hashes[password]


def add_user(database: Database, username: str, role: str, *, password: str = TEST_PASSWORD,
             disabled: bool = False):
    """Create a user directly in the database (as mc-users would); returns it."""
    from mission_control import users

    with database.transaction() as session:
        user = users.create(session, username, role, cheap_hash(password))
        user.disabled = disabled
        return user


def bearer_client(app, database: Database, username: str, role: str = "operator"):
    """A test client of ``app`` that sends a bearer token of ``username`` (``role``) with
    every request."""
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token_for(database, username, role)}"
    return client


def token_for(database: Database, username: str, role: str = "operator", *,
              kind: str = "api", expires_in_s: float | None = None) -> str:
    """A token of a user of ``role`` named ``username`` (created when missing)."""
    from sqlalchemy import select

    from mission_control import auth
    from mission_control.auth_models import User

    with database.transaction() as session:
        user = session.scalar(select(User).where(User.username_key == username.casefold()))
    if user is None:
        user = add_user(database, username, role)
    _, secret = auth.issue_token(database, user.id, kind=kind, label="test",
                                 expires_in_s=expires_in_s)
    return secret


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def sign_in_client(client, database: Database, username: str, role: str) -> None:
    """Give a Flask test client what a signed-in user's browser has: a bearer token for the
    API, the page's session cookie, and its CSRF token on every request (as app.js sends)."""
    from mission_control import auth, authweb

    token = token_for(database, username, role)
    session_secret = token_for(database, username, role, kind=auth.SESSION)
    identity = auth.identify(database, session_secret, kind=auth.SESSION)
    with client.application.app_context():
        csrf = authweb.csrf_token(identity)
    client.set_cookie(authweb.SESSION_COOKIE, session_secret)
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    client.environ_base["HTTP_X_CSRF_TOKEN"] = csrf


CALLER_ROLES = {"viewer": 0, "operator": 1, "admin": 2}  # ranks of the living callers' roles
DEAD_CALLERS = ("revoked", "expired", "disabled")


def caller_token(database: Database, caller: str) -> tuple[str | None, str]:
    """(token, username) of a kind of caller for role matrices: "nobody" (no token), a role
    ("viewer", "operator", "admin"), or a dead token ("revoked", "expired", or "disabled" for
    a disabled user's). A dead token belongs to an admin, so only its deadness can explain
    the refusal."""
    from datetime import timedelta

    from sqlalchemy import update

    from mission_control.auth import hash_token
    from mission_control.auth_models import ApiToken, User

    if caller == "nobody":
        return None, "nobody"
    name = f"{caller}-user"
    token = token_for(database, name, caller if caller in CALLER_ROLES else "admin")
    this_token = ApiToken.token_hash == hash_token(token)
    with database.transaction() as session:
        if caller == "revoked":
            session.execute(update(ApiToken).where(this_token).values(revoked_at=utcnow()))
        elif caller == "expired":
            session.execute(update(ApiToken).where(this_token)
                            .values(expires_at=utcnow() - timedelta(seconds=1)))
        elif caller == "disabled":
            session.execute(update(User).where(User.username == name).values(disabled=True))
    return token, name


def wait_for(predicate, timeout: float = 30, interval: float = 0.1, message: str = "condition"):
    """Poll ``predicate`` until it returns a truthy value; return that value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {message}")
        time.sleep(interval)
