"""The Users page (/users) on both databases: admins list, create, change roles, disable and
enable users through the users rules of the core; everyone else gets 403 and changes nothing;
refusals are shown in the page (never a 500) and no password is ever sent back."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from mission_control.auth_models import User
from mission_control.testing import add_user, sign_in_client

HTMX = {"HX-Request": "true"}
PASSWORD = "a good long secret"


@pytest.fixture
def admin(app, database):
    client = app.test_client()
    sign_in_client(client, database, "root", "admin")
    return client


def signed_in(app, database, name: str, role: str):
    client = app.test_client()
    sign_in_client(client, database, name, role)
    return client


def user(database, name: str) -> User | None:
    with database.transaction() as session:
        return session.scalar(select(User).where(User.username == name))


def row_of(html: str, found: User) -> str:
    match = re.search(rf'<tr id="user-{found.id}".*?</tr>', html, re.S)
    assert match, f"no row for {found.username}"
    return match.group(0)


def test_the_page_lists_every_user_with_role_sign_in_state_and_last_sign_in(admin, database):
    add_user(database, "zoe", "viewer", disabled=True)
    add_user(database, "amy", "operator")

    response = admin.get("/users")

    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.text
    names = re.findall(r'<tr id="user-[^"]+" data-username="([^"]+)" data-role="([^"]+)"\s+'
                       r'data-enabled="([^"]+)"', html)
    assert names == [("amy", "operator", "true"), ("root", "admin", "true"),
                     ("zoe", "viewer", "false")]
    assert "never" in row_of(html, user(database, "amy"))  # no page sign-in yet
    assert "UTC" in row_of(html, user(database, "root"))  # signed in: when
    assert 'aria-current="page"' in html and 'id="nav-users"' in html


@pytest.mark.parametrize("role", ["viewer", "operator"])
def test_only_admins_see_the_page_or_the_nav_entry(app, database, role):
    client = signed_in(app, database, f"a-{role}", role)

    response = client.get("/users")

    assert response.status_code == 403 and response.mimetype == "text/html"
    assert "This needs the admin role" in response.text
    assert 'id="nav-users"' not in client.get("/fleet").text


@pytest.mark.parametrize("role", ["viewer", "operator"])
def test_non_admins_cannot_create_or_change_users(app, database, role):
    client = signed_in(app, database, f"b-{role}", role)
    target = add_user(database, "target", "viewer")

    created = client.post("/users", data={"username": "intruder", "password": PASSWORD,
                                          "role": "admin"})
    promoted = client.post(f"/users/{target.id}", data={"action": "role", "role": "admin"})
    disabled = client.post(f"/users/{target.id}", data={"action": "disable"})

    assert [r.status_code for r in (created, promoted, disabled)] == [403, 403, 403]
    assert user(database, "intruder") is None
    assert (user(database, "target").role, user(database, "target").disabled) == ("viewer", False)


def test_a_post_without_the_csrf_token_is_refused(app, database, admin):
    admin.environ_base.pop("HTTP_X_CSRF_TOKEN")

    response = admin.post("/users", data={"username": "nocsrf", "password": PASSWORD})

    assert response.status_code == 403 and user(database, "nocsrf") is None


def test_an_admin_creates_a_user_who_shows_in_the_list_without_their_password(admin, database):
    response = admin.post("/users", data={"username": "newbie", "password": PASSWORD,
                                          "role": "operator"}, headers=HTMX)

    assert response.status_code == 201
    assert 'id="users-section"' in response.text and "<html" not in response.text
    assert "Created newbie (operator)." in response.text
    assert PASSWORD not in response.text
    created = user(database, "newbie")
    assert created.role == "operator" and not created.disabled


@pytest.mark.parametrize("form,field,message", [
    ({"username": "bad name", "password": PASSWORD}, "username", "a username is"),
    ({"username": "short", "password": "Zq7#"}, "password", "at least 8 characters"),
    ({"username": "ok", "password": PASSWORD, "role": "god"}, "role", "Input should be"),
    ({"username": "ctl\x1bname", "password": PASSWORD}, "username", "a username is"),
    ({"username": "x" * 5000, "password": PASSWORD}, "username", "a username is 1 to 64"),
    ({"username": "nul", "password": "pass\x00word!!"}, "password", "control characters"),
    ({}, "username", "a username is"),
])
def test_a_refused_new_user_is_explained_beside_its_field(admin, database, form, field, message):
    with database.transaction() as session:
        before = session.scalars(select(User.username)).all()

    response = admin.post("/users", data=form)

    assert response.status_code == 422 and response.mimetype == "text/html"
    match = re.search(rf'<p class="field-error" id="new-{field}-error">([^<]*)</p>', response.text)
    assert match and message in match.group(1)
    assert not re.search(r'id="new-password"[^>]*value=', response.text)  # asked anew
    if form.get("password"):
        assert form["password"] not in response.text
    with database.transaction() as session:
        assert session.scalars(select(User.username)).all() == before


def test_a_taken_name_is_a_conflict_shown_in_the_form(admin, database):
    add_user(database, "Taken", "viewer")

    response = admin.post("/users", data={"username": "taken", "password": PASSWORD},
                          headers=HTMX)

    assert response.status_code == 409
    assert "exists already" in response.text and 'value="taken"' in response.text


def test_an_admin_changes_a_role_and_disables_then_enables_a_user(admin, database):
    target = add_user(database, "ops", "viewer")

    promoted = admin.post(f"/users/{target.id}", data={"action": "role", "role": "operator"},
                          headers=HTMX)
    assert promoted.status_code == 200 and "ops is now operator." in promoted.text
    assert user(database, "ops").role == "operator"

    disabled = admin.post(f"/users/{target.id}", data={"action": "disable"})
    assert disabled.status_code == 200 and 'data-enabled="false"' in row_of(
        disabled.text, target)
    assert user(database, "ops").disabled

    enabled = admin.post(f"/users/{target.id}", data={"action": "enable"})
    assert enabled.status_code == 200 and not user(database, "ops").disabled


def test_a_disabled_user_can_no_longer_use_the_page(app, admin, database):
    victim = signed_in(app, database, "victim", "operator")
    assert victim.get("/fleet").status_code == 200

    admin.post(f"/users/{user(database, 'victim').id}", data={"action": "disable"})

    assert victim.get("/fleet").status_code == 303  # back to /login


def test_the_last_admin_cannot_demote_or_disable_themselves(admin, database):
    me = user(database, "root")

    demoted = admin.post(f"/users/{me.id}", data={"action": "role", "role": "viewer"},
                         headers=HTMX)
    disabled = admin.post(f"/users/{me.id}", data={"action": "disable"})

    assert demoted.status_code == disabled.status_code == 409
    assert 'id="row-error"' in demoted.text and "last active admin" in demoted.text
    assert (user(database, "root").role, user(database, "root").disabled) == ("admin", False)


@pytest.mark.parametrize("user_id,form,status", [
    ("not-a-uuid", {"action": "disable"}, 404),
    ("00000000-0000-0000-0000-000000000000", {"action": "disable"}, 404),
    ("{id}", {"action": "explode"}, 422),
    ("{id}", {}, 422),
    ("{id}", {"action": "role", "role": "superuser"}, 422),
    ("{id}", {"action": "role"}, 422),
])
def test_a_bad_change_is_a_clear_4xx_page_and_changes_nothing(admin, database, user_id, form,
                                                              status):
    target = add_user(database, "steady", "viewer")

    response = admin.post(f"/users/{user_id.format(id=target.id)}", data=form)

    assert response.status_code == status and response.mimetype == "text/html"
    assert 'class="alert alert-error"' in response.text
    assert (user(database, "steady").role, user(database, "steady").disabled) == ("viewer", False)
