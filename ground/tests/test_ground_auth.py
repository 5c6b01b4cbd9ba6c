"""Signing in over the API, tokens and users (mission_control.auth_api on ground), both databases.

The same blueprint serves registry-api; its own tests check that one token works there too.
"""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from mission_control import throttle
from mission_control.auth import hash_token
from mission_control.auth_models import ApiToken, User
from mission_control.testing import (
    TEST_PASSWORD, add_user, assert_error, bearer, run_together, token_for,
)
from mission_control.timeutil import utcnow


def sign_in(client, username: str, password: str = TEST_PASSWORD, **extra):
    return client.post("/api/auth/tokens", json={"username": username, "password": password,
                                                  **extra})


# --- POST /api/auth/tokens -------------------------------------------------------------------

def test_a_right_password_gives_a_token_shown_once_and_stored_as_its_sha256(anonymous, database):
    add_user(database, "Ada", "operator")

    response = sign_in(anonymous, "ada", label="laptop", expires_in_s=3600)

    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert set(body) == {"id", "token", "username", "role", "expires_at"}
    assert (body["username"], body["role"]) == ("Ada", "operator")
    assert re.fullmatch(r"mc_[A-Za-z0-9_-]{43}", body["token"])  # 32 random bytes
    with database.transaction() as session:
        stored = session.get(ApiToken, uuid.UUID(body["id"]))
        assert stored.token_hash == hash_token(body["token"]) != body["token"]
        assert stored.label == "laptop" and stored.expires_at is not None
    me = anonymous.get("/api/auth/me", headers=bearer(body["token"]))
    assert me.status_code == 200
    assert {k: me.get_json()[k] for k in ("username", "role")} == {"username": "Ada",
                                                                    "role": "operator"}


def test_two_sign_ins_get_two_different_tokens(anonymous, database):
    add_user(database, "ada", "viewer")

    tokens = {sign_in(anonymous, "ada").get_json()["token"] for _ in range(3)}

    assert len(tokens) == 3


def test_an_unknown_user_and_a_wrong_password_get_the_same_answer(anonymous, database):
    add_user(database, "ada", "admin")

    unknown = sign_in(anonymous, "nobody")
    wrong = sign_in(anonymous, "ada", "wrong password")
    disabled_user = add_user(database, "bob", "admin", disabled=True)
    disabled = sign_in(anonymous, disabled_user.username)

    bodies = [assert_error(r, 401, "unauthorized") for r in (unknown, wrong, disabled)]
    assert bodies[0] == bodies[1] == bodies[2]
    assert unknown.headers["WWW-Authenticate"] == wrong.headers["WWW-Authenticate"]
    assert unknown.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("name", ["ada", "nobody"])
def test_five_failures_lock_the_name_for_fifteen_minutes_even_for_the_right_password(
        anonymous, database, name):
    add_user(database, "ada", "operator")
    for _ in range(throttle.MAX_FAILURES):
        assert_error(sign_in(anonymous, name, "wrong password"), 401)

    locked = sign_in(anonymous, name, "wrong password")
    right = sign_in(anonymous, name)  # the right password for ada; still refused

    for response in (locked, right):
        body = assert_error(response, 429, "too_many_attempts")
        assert 0 < int(response.headers["Retry-After"]) <= throttle.WINDOW_S
        assert body["retry_after_s"] == int(response.headers["Retry-After"])
    # Another name is not locked; the lock is per name, whatever its case.
    assert_error(sign_in(anonymous, name.upper()), 429)
    add_user(database, "carol", "viewer")
    assert sign_in(anonymous, "carol").status_code == 201


def test_the_lock_ends_when_the_failures_leave_the_window(anonymous, database):
    add_user(database, "ada", "operator")
    long_ago = utcnow() - timedelta(seconds=throttle.WINDOW_S + 1)
    for _ in range(throttle.MAX_FAILURES):
        throttle.record_failure(database, "login", throttle.subject_of("ada"), now=long_ago)

    assert sign_in(anonymous, "ada").status_code == 201
    assert throttle.failures(database, "login", throttle.subject_of("ada")) == 0


def test_concurrent_guesses_cannot_slip_many_past_the_throttle(app, database):
    add_user(database, "ada", "operator")

    statuses = run_together(lambda _: sign_in(app.test_client(), "ada", "guess").status_code,
                            count=12)

    # Each guess checks the count before it hashes; at most the racing ones get through.
    # On a loaded machine a guess may also find every hashing slot taken (503 busy): refused
    # unchecked, which is not a slip either.
    assert set(statuses) <= {401, 429, 503} and 401 in statuses
    assert_error(sign_in(app.test_client(), "ada"), 429)


@pytest.mark.parametrize("body", [
    {}, {"username": "ada"}, {"password": "x"}, {"username": "", "password": "x"},
    {"username": "ada", "password": ""}, {"username": "a\x00", "password": "x"},
    {"username": "ada", "password": "p\ud800"}, {"username": "ada", "password": 12345678},
    {"username": "ada", "password": "x" * 1025}, {"username": "u" * 201, "password": "x"},
    {"username": "ada", "password": "xxxxxxxx", "expires_in_s": 0},
    {"username": "ada", "password": "xxxxxxxx", "expires_in_s": 10**30},
    {"username": "ada", "password": "xxxxxxxx", "expires_in_s": 1.5},
    {"username": "ada", "password": "xxxxxxxx", "role": "admin"},
    {"username": "ada", "password": "xxxxxxxx", "label": "a\x1bb"},
])
def test_a_malformed_sign_in_is_422_and_counts_no_failure(anonymous, database, body):
    assert_error(anonymous.post("/api/auth/tokens", json=body), 422, "validation_error")
    assert throttle.failures(database, "login", throttle.subject_of("ada")) == 0


def test_duplicate_keys_in_a_sign_in_are_refused(anonymous):
    response = anonymous.post("/api/auth/tokens", data='{"username": "a", "username": "b", '
                              '"password": "xxxxxxxx"}', content_type="application/json")
    assert_error(response, 400, "duplicate_key")


# --- tokens: listing, revoking, expiry, disabled users ------------------------------------------

def test_tokens_list_shows_your_own_without_secrets_and_an_admin_sees_all(app, database):
    ada_token = token_for(database, "ada", "operator")
    admin_token = token_for(database, "root", "admin")

    mine = app.test_client().get("/api/auth/tokens", headers=bearer(ada_token))
    everyone = app.test_client().get("/api/auth/tokens", headers=bearer(admin_token))

    assert {t["username"] for t in mine.get_json()["items"]} == {"ada"}
    assert {t["username"] for t in everyone.get_json()["items"]} == {"ada", "root"}
    text = mine.get_data(as_text=True) + everyone.get_data(as_text=True)
    for secret in (ada_token, admin_token, hash_token(ada_token), hash_token(admin_token)):
        assert secret not in text


def test_a_revoked_token_is_refused_at_once(app, database):
    token = token_for(database, "ada", "operator")
    client = app.test_client()
    token_id = client.get("/api/auth/me", headers=bearer(token)).get_json()["token_id"]

    assert client.delete(f"/api/auth/tokens/{token_id}", headers=bearer(token)).status_code == 204

    assert_error(client.get("/api/auth/me", headers=bearer(token)), 401, "unauthorized")
    assert_error(client.get("/api/telecommands", headers=bearer(token)), 401)


def test_only_an_admin_revokes_someone_elses_token(app, database):
    ada, bob, root = (token_for(database, n, r) for n, r in
                      (("ada", "operator"), ("bob", "operator"), ("root", "admin")))
    client = app.test_client()
    ada_id = client.get("/api/auth/me", headers=bearer(ada)).get_json()["token_id"]

    assert_error(client.delete(f"/api/auth/tokens/{ada_id}", headers=bearer(bob)), 404)
    assert client.get("/api/auth/me", headers=bearer(ada)).status_code == 200
    assert client.delete(f"/api/auth/tokens/{ada_id}", headers=bearer(root)).status_code == 204
    assert_error(client.get("/api/auth/me", headers=bearer(ada)), 401)


@pytest.mark.parametrize("token_id", ["nope", "5b1f0c3e-9a4d-4c6e-8f21-7d3a2b9e0c14", "%00"])
def test_revoking_an_unknown_token_is_404(client, token_id):
    assert_error(client.delete(f"/api/auth/tokens/{token_id}"), 404, "not_found")


def test_an_expired_token_is_refused(app, database):
    token = token_for(database, "ada", "operator", expires_in_s=3600)
    with database.transaction() as session:
        session.execute(update(ApiToken).where(ApiToken.token_hash == hash_token(token))
                        .values(expires_at=utcnow() - timedelta(seconds=1)))

    assert_error(app.test_client().get("/api/auth/me", headers=bearer(token)), 401)


def test_every_token_of_a_disabled_user_is_refused(app, database):
    token = token_for(database, "ada", "operator")
    admin = bearer(token_for(database, "root", "admin"))
    client = app.test_client()
    ada_id = client.get("/api/auth/me", headers=bearer(token)).get_json()["id"]

    assert client.patch(f"/api/users/{ada_id}", json={"disabled": True},
                        headers=admin).status_code == 200

    assert_error(client.get("/api/telecommands", headers=bearer(token)), 401)
    assert_error(sign_in(client, "ada"), 401)


@pytest.mark.parametrize("header", ["Bearer", "Bearer ", "Basic YWRhOnB3", "bearer mc_x",
                                    "Bearer mc_" + "a" * 43, "Token abc", "Bearer \u00e9t\u00e9"])
def test_a_missing_or_unusable_authorization_is_401_with_the_scheme(app, header):
    response = app.test_client().get("/api/telecommands", headers={"Authorization": header})

    assert_error(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


# --- users ------------------------------------------------------------------------------------

@pytest.fixture
def admin(app, database):
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token_for(database, 'root', 'admin')}"
    return client


def test_an_admin_creates_a_user_who_can_then_sign_in(admin, anonymous, database):
    created = admin.post("/api/users", json={"username": "Eve.Ops", "password": "long enough pw",
                                             "role": "operator"})

    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert (body["username"], body["role"], body["disabled"]) == ("Eve.Ops", "operator", False)
    assert "password" not in created.get_data(as_text=True)
    assert sign_in(anonymous, "eve.ops", "long enough pw").status_code == 201
    listed = admin.get("/api/users").get_json()["items"]
    assert "Eve.Ops" in [u["username"] for u in listed]
    assert "argon2" not in admin.get("/api/users").get_data(as_text=True)


def test_usernames_are_unique_whatever_their_case(admin):
    assert admin.post("/api/users", json={"username": "ada", "password": "long enough pw"}
                      ).status_code == 201
    assert_error(admin.post("/api/users", json={"username": "ADA", "password": "long enough pw"}),
                 409, "name_taken")


@pytest.mark.parametrize("body", [
    {"username": "", "password": "long enough pw"}, {"username": "a b", "password": "long enough"},
    {"username": "-ada", "password": "long enough"}, {"username": "ada", "password": "short"},
    {"username": "ada", "password": "long enough", "role": "root"},
    {"username": "u" * 65, "password": "long enough"}, {"username": "ada\u0301", "password": "x" * 9},
    {"username": "ada", "password": "long\x00enough"}, {"username": "ada", "password": "long enough",
                                                        "disabled": True},
])
def test_a_bad_new_user_is_422_and_nothing_is_created(admin, database, body):
    assert_error(admin.post("/api/users", json=body), 422, "validation_error")
    with database.transaction() as session:
        assert session.scalars(select(User.username)).all() == ["root"]


def test_a_new_password_ends_the_old_tokens(admin, app, database):
    token = token_for(database, "ada", "operator")
    ada_id = app.test_client().get("/api/auth/me", headers=bearer(token)).get_json()["id"]

    assert admin.patch(f"/api/users/{ada_id}", json={"password": "a new password"}
                       ).status_code == 200

    assert_error(app.test_client().get("/api/auth/me", headers=bearer(token)), 401)
    assert_error(sign_in(app.test_client(), "ada"), 401)
    assert sign_in(app.test_client(), "ada", "a new password").status_code == 201


def test_the_last_active_admin_can_be_neither_demoted_nor_disabled(admin, app, database):
    root_id = admin.get("/api/auth/me").get_json()["id"]

    for change in ({"role": "operator"}, {"disabled": True}):
        body = assert_error(admin.patch(f"/api/users/{root_id}", json=change), 409, "last_admin")
        assert "last active admin" in body["message"]
    add_user(database, "second", "admin")
    assert admin.patch(f"/api/users/{root_id}", json={"role": "operator"}).status_code == 200
    assert_error(admin.get("/api/users"), 403, "forbidden")


def test_two_admins_demoting_each_other_at_once_leave_one_admin(app, database):
    tokens = [token_for(database, name, "admin") for name in ("ann", "ben")]
    ids = [app.test_client().get("/api/auth/me", headers=bearer(t)).get_json()["id"]
           for t in tokens]

    def demote_the_other(index: int) -> int:
        return app.test_client().patch(f"/api/users/{ids[1 - index]}", json={"role": "viewer"},
                                       headers=bearer(tokens[index])).status_code

    statuses = run_together(demote_the_other, count=2)

    assert sorted(statuses) in ([200, 401], [200, 403], [200, 409]), statuses
    with database.transaction() as session:
        admins = session.scalars(select(User).where(User.role == "admin")).all()
    assert len(admins) == 1


@pytest.mark.parametrize("user_id", ["nope", "5b1f0c3e-9a4d-4c6e-8f21-7d3a2b9e0c14"])
def test_changing_an_unknown_user_is_404(admin, user_id):
    assert_error(admin.patch(f"/api/users/{user_id}", json={"role": "viewer"}), 404, "not_found")


def test_failures_that_no_longer_count_are_pruned_whoever_they_were_for(anonymous, database):
    long_ago = utcnow() - timedelta(seconds=throttle.WINDOW_S + 60)
    for index in range(30):
        throttle.record_failure(database, "login", throttle.subject_of(f"gone-{index}"),
                                now=long_ago)

    assert_error(sign_in(anonymous, "someone-new", "wrong password"), 401)

    with database.transaction() as session:
        from mission_control.auth_models import AuthFailure

        left = session.scalars(select(AuthFailure.subject)).all()
    assert left == [throttle.subject_of("someone-new")]


@pytest.mark.parametrize("change", ["revoke", "expire", "disable"])
def test_a_change_made_elsewhere_takes_effect_within_a_second(app, database, change):
    """Another process (here: a direct database change) revokes, expires or disables while
    this process has just accepted the token: it is refused within 1 s all the same."""
    import time

    token = token_for(database, "ada", "operator")
    client = app.test_client()
    assert client.get("/api/auth/me", headers=bearer(token)).status_code == 200
    with database.transaction() as session:
        if change == "disable":
            session.execute(update(User).where(User.username == "ada").values(disabled=True))
        else:
            column = "revoked_at" if change == "revoke" else "expires_at"
            session.execute(update(ApiToken).where(ApiToken.token_hash == hash_token(token))
                            .values({column: utcnow() - timedelta(milliseconds=1)}))
    changed_at = time.monotonic()

    while client.get("/api/auth/me", headers=bearer(token)).status_code == 200:
        assert time.monotonic() - changed_at < 1.0, "still accepted after 1 s"
        time.sleep(0.02)
    assert_error(client.get("/api/auth/me", headers=bearer(token)), 401)
