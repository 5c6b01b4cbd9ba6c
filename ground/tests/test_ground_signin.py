"""Signing in to the operator page and out of it, CSRF, roles on the page, where ``next`` may
lead, the security headers and the Host check: through the real app on both databases.

``anonymous`` (no credentials) and ``make_app`` come from this folder's conftest; users are
created in the database as ``mc-users`` would, and sign in through the real /login form.
"""

from __future__ import annotations

import re
import uuid

import pytest
from sqlalchemy import func, select

from mission_control import auth, authweb
from mission_control.auth_models import ApiToken
from mission_control.headers import CONTENT_SECURITY_POLICY
from mission_control.models import Telecommand
from mission_control.testing import TEST_PASSWORD, add_user, assert_error, gen_command

HTMX = {"HX-Request": "true"}


def sign_in(client, username: str, password: str = TEST_PASSWORD, next_page: str | None = None):
    data = {"username": username, "password": password}
    if next_page is not None:
        data["next"] = next_page
    return client.post("/login", data=data)


def csrf_of(html: str) -> str:
    return re.search(r'<meta name="csrf-token" content="([^"]*)"', html).group(1)


def signed_in(app, database, username: str, role: str):
    """A client signed in through the form, as a browser is: cookie only, no CSRF header."""
    add_user(database, username, role)
    client = app.test_client()
    assert sign_in(client, username).status_code == 303
    return client


def session_cookie(client) -> str | None:
    cookie = client.get_cookie(authweb.SESSION_COOKIE)
    return cookie.value if cookie else None


def stored(database) -> int:
    with database.transaction() as session:
        return session.scalar(select(func.count()).select_from(Telecommand))


def status_of(database, command_id) -> str:
    with database.transaction() as session:
        return session.get(Telecommand, command_id).status


# --- signing in and out -------------------------------------------------------------------

def test_the_login_page_is_styled_like_the_console_and_has_nothing_inline(anonymous):
    response = anonymous.get("/login")
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.text
    assert '<link rel="stylesheet" href="/static/app.css">' in html
    assert 'class="card login-card"' in html and 'class="topbar"' in html
    assert re.search(r'<input id="username" name="username" type="text"', html)
    assert re.search(r'<input id="password" name="password" type="password"', html)
    assert "style=" not in html and "<style" not in html
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)  # every script is a file
    assert not re.search(r"\son[a-z]+=", html)  # no inline event handlers
    assert 'id="signed-in"' not in html  # nobody is signed in yet


def test_the_page_sends_an_anonymous_browser_to_login_and_back(anonymous, database):
    add_user(database, "ann", "operator")
    first = anonymous.get("/telecommands/x?y=1")
    assert first.status_code == 303
    assert first.headers["Location"] == "/login?next=/telecommands/x?y%3D1"
    htmx = anonymous.get("/ui/queue?since=abc", headers={
        **HTMX, "HX-Current-URL": "http://localhost/telecommands/x?y=1"})
    assert htmx.status_code == 401  # htmx goes to the page it was showing, not the fragment
    assert htmx.headers["HX-Redirect"] == "/login?next=/telecommands/x?y%3D1"
    for shown in (None, "http://[", "http://localhost"):
        headers = {**HTMX, **({"HX-Current-URL": shown} if shown else {})}
        assert anonymous.get("/ui/queue", headers=headers).headers["HX-Redirect"] == \
            "/login?next=/"

    response = sign_in(anonymous, "ann", next_page="/telecommands/x?y=1")
    assert response.status_code == 303 and response.headers["Location"] == "/telecommands/x?y=1"
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith(f"{authweb.SESSION_COOKIE}=mc_")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    assert TEST_PASSWORD not in response.text


def test_the_top_bar_shows_who_is_signed_in_with_a_sign_out_form(app, database):
    client = signed_in(app, database, "ann", "operator")
    html = client.get("/").text
    assert re.search(r'id="signed-in" data-username="ann" data-role="operator"', html)
    assert '<span class="user-name">ann</span>' in html
    assert '<span class="role-badge role-operator">operator</span>' in html
    form = re.search(r'<form class="sign-out" method="post" action="/logout">.*?</form>', html,
                     re.S).group(0)
    assert f'name="csrf_token" value="{csrf_of(html)}"' in form and csrf_of(html)


def test_the_session_cookie_is_secure_when_configured(make_app, database):
    add_user(database, "ann", "operator")
    client = make_app(session_cookie_secure=True).test_client()
    assert "; Secure" in sign_in(client, "ann").headers["Set-Cookie"]


def test_signing_out_revokes_the_session_and_the_old_cookie_goes_back_to_login(app, database):
    client = signed_in(app, database, "ann", "operator")
    secret = session_cookie(client)
    csrf = csrf_of(client.get("/").text)

    response = client.post("/logout", data={"csrf_token": csrf})
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    assert session_cookie(client) is None
    with database.transaction() as session:
        token = session.scalar(select(ApiToken).where(ApiToken.kind == auth.SESSION))
        assert token.revoked_at is not None
    assert auth.identify(database, secret, kind=auth.SESSION) is None

    replay = app.test_client()
    replay.set_cookie(authweb.SESSION_COOKIE, secret)
    again = replay.get("/")
    assert again.status_code == 303 and again.headers["Location"].startswith("/login")
    refused = replay.post("/ui/telecommands", data={"csrf_token": csrf, "target": "spacecraft",
                                                    "command_name": "PING"})
    assert refused.status_code == 303 and stored(database) == 0


def test_signing_out_without_the_csrf_token_is_refused_and_the_session_lives_on(app, database):
    client = signed_in(app, database, "ann", "operator")
    assert client.post("/logout").status_code == 403
    assert client.post("/logout", data={"csrf_token": "0" * 64}).status_code == 403
    assert client.get("/").status_code == 200


def test_signing_out_when_the_session_is_already_gone_just_goes_to_login(anonymous):
    response = anonymous.post("/logout")
    assert response.status_code == 303 and response.headers["Location"] == "/login"


def test_the_login_page_of_a_signed_in_user_goes_on_to_the_page(app, database):
    client = signed_in(app, database, "ann", "viewer")
    response = client.get("/login?next=/telecommands/abc")
    assert response.status_code == 303 and response.headers["Location"] == "/telecommands/abc"


def test_a_disabled_user_cannot_sign_in(anonymous, database):
    add_user(database, "gone", "operator", disabled=True)
    response = sign_in(anonymous, "gone")
    assert response.status_code == 401 and "Set-Cookie" not in response.headers


# --- wrong credentials and throttling ------------------------------------------------------

def test_a_wrong_password_and_an_unknown_user_get_the_same_page(anonymous, database):
    add_user(database, "ann", "operator")
    wrong = sign_in(anonymous, "ann", "not the password")
    unknown = sign_in(anonymous, "bob", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    assert "Set-Cookie" not in wrong.headers and "Set-Cookie" not in unknown.headers
    assert "Wrong username or password." in wrong.text
    assert wrong.text.replace('value="ann"', "") == unknown.text.replace('value="bob"', "")
    assert "not the password" not in wrong.text  # the password is never echoed


@pytest.mark.parametrize("username", ["ann", "nobody"])
def test_five_failures_lock_the_name_even_for_the_right_password(anonymous, database, username):
    add_user(database, "ann", "operator")
    for _ in range(5):
        assert sign_in(anonymous, username, "wrong password").status_code == 401

    locked = sign_in(anonymous, username, "wrong password")
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0
    assert "Too many failed sign-ins" in locked.text
    right = sign_in(anonymous, username)
    assert right.status_code == 429 and "Set-Cookie" not in right.headers
    assert session_cookie(anonymous) is None


def test_a_lock_on_one_name_does_not_lock_another(anonymous, database):
    add_user(database, "ann", "operator")
    add_user(database, "bea", "operator")
    for _ in range(5):
        sign_in(anonymous, "ann", "wrong password")
    assert sign_in(anonymous, "bea").status_code == 303


# --- CSRF ----------------------------------------------------------------------------------

@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "form"])
def test_a_send_without_a_csrf_token_is_refused_and_writes_nothing(app, database, htmx):
    client = signed_in(app, database, "ann", "operator")
    response = client.post("/ui/telecommands", data={"target": "spacecraft",
                                                     "command_name": "PING"},
                           headers=HTMX if htmx else {})
    assert response.status_code == 403 and "did not come from this page" in response.text
    if htmx:  # a notice swapped in out of band; the form stays as it was
        assert response.headers["HX-Reswap"] == "none"
        assert '<div id="notices" class="notices" aria-live="polite" hx-swap-oob="true">' in \
            response.text and "<html" not in response.text
    else:
        assert "<html" in response.text
    assert stored(database) == 0


def test_a_token_of_another_session_is_refused_and_writes_nothing(app, database):
    ann = signed_in(app, database, "ann", "operator")
    bea = signed_in(app, database, "bea", "operator")
    beas_token = csrf_of(bea.get("/").text)
    assert beas_token != csrf_of(ann.get("/").text)
    command_id = gen_command(database)

    send = ann.post("/ui/telecommands", headers={**HTMX, "X-CSRF-Token": beas_token},
                    data={"target": "spacecraft", "command_name": "PING"})
    cancel = ann.post(f"/ui/telecommands/{command_id}/cancel",
                      data={"csrf_token": beas_token})
    assert send.status_code == cancel.status_code == 403
    assert stored(database) == 1 and status_of(database, command_id) == "READY"


def test_a_cancel_without_a_csrf_token_is_refused(app, database):
    client = signed_in(app, database, "ann", "operator")
    command_id = gen_command(database)
    assert client.post(f"/ui/telecommands/{command_id}/cancel", headers=HTMX).status_code == 403
    assert status_of(database, command_id) == "READY"


def test_the_pages_own_token_works_in_the_form_and_in_the_header(app, database):
    client = signed_in(app, database, "ann", "operator")
    csrf = csrf_of(client.get("/").text)
    command_id = gen_command(database)
    form = client.post("/ui/telecommands", data={"csrf_token": csrf, "target": "spacecraft",
                                                 "command_name": "PING"})
    htmx = client.post(f"/ui/telecommands/{command_id}/cancel",
                       headers={**HTMX, "X-CSRF-Token": csrf})
    assert (form.status_code, htmx.status_code) == (303, 200)
    assert status_of(database, command_id) == "CANCELLED" and stored(database) == 2


# --- a viewer on the page -------------------------------------------------------------------

def test_a_viewer_sees_the_queue_and_details_but_no_send_form_or_cancel(app, database):
    client = signed_in(app, database, "vic", "viewer")
    command_id = gen_command(database)
    page = client.get("/")
    assert page.status_code == 200
    assert 'id="send-form"' not in page.text and 'id="queue-body"' in page.text
    assert f'data-command-id="{command_id}" data-status="READY"' in page.text
    assert 'data-action="cancel"' not in page.text and 'id="read-only"' in page.text
    assert '<span class="role-badge role-viewer">viewer</span>' in page.text
    assert 'data-action="cancel"' not in client.get("/ui/queue").text
    detail = client.get(f"/telecommands/{command_id}")
    assert detail.status_code == 200 and 'data-status="READY"' in detail.text
    assert 'data-action="cancel"' not in detail.text


def test_an_operator_sees_cancel_on_ready_commands(app, database):
    client = signed_in(app, database, "ann", "operator")
    command_id = gen_command(database)
    assert 'data-action="cancel"' in client.get("/").text
    assert 'data-action="cancel"' in client.get(f"/telecommands/{command_id}").text


def test_the_server_refuses_a_viewers_send_and_cancel(app, database):
    client = signed_in(app, database, "vic", "viewer")
    csrf = csrf_of(client.get("/").text)
    command_id = gen_command(database)
    send = client.post("/ui/telecommands", data={"csrf_token": csrf, "target": "spacecraft",
                                                 "command_name": "PING"})
    cancel = client.post(f"/ui/telecommands/{command_id}/cancel",
                         headers={**HTMX, "X-CSRF-Token": csrf})
    assert send.status_code == cancel.status_code == 403
    assert "needs the operator role" in send.text and "vic (viewer)" in send.text
    assert "needs the operator role" in cancel.text and 'data-notice="error"' in cancel.text
    assert stored(database) == 1 and status_of(database, command_id) == "READY"


# --- where "next" may lead -----------------------------------------------------------------

@pytest.mark.parametrize("target", [
    "//evil.com", "https://evil.com", "/\\evil.com", "\\\\evil.com", "///evil.com",
    "http:/evil.com", "javascript:alert(1)", "/\t/evil.com", " //evil.com", "evil.com",
])
def test_next_cannot_lead_off_site(anonymous, database, target):
    add_user(database, "ann", "operator")
    response = sign_in(anonymous, "ann", next_page=target)
    assert response.status_code == 303 and response.headers["Location"] == "/"
    again = anonymous.get("/login", query_string={"next": target})
    assert again.status_code == 303 and again.headers["Location"] == "/"


@pytest.mark.parametrize("target", ["//evil.com", "https://evil.com", "/\\evil.com"])
def test_the_login_form_does_not_carry_an_off_site_next(anonymous, target):
    html = anonymous.get("/login", query_string={"next": target}).text
    assert re.search(r'<input type="hidden" name="next" value="/">', html)


# --- security headers and the Host check ----------------------------------------------------

HTML_PAGES = ["/login", "/", "/telecommands/not-an-id", "/docs"]


def test_every_html_answer_carries_the_security_headers(app, database):
    client = signed_in(app, database, "ann", "operator")
    for path in HTML_PAGES:
        response = client.get(path)
        assert response.mimetype == "text/html", path
        assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY, path
        assert response.headers["X-Frame-Options"] == "DENY", path
        assert response.headers["X-Content-Type-Options"] == "nosniff", path
        assert response.headers["Referrer-Policy"] == "same-origin", path
    csp = dict(part.split(" ", 1) for part in CONTENT_SECURITY_POLICY.split("; "))
    assert csp["script-src"] == "'self'" and csp["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY
    refused = client.post("/logout")  # a refusal page is HTML too
    assert refused.status_code == 403 and "Content-Security-Policy" in refused.headers


@pytest.mark.parametrize("path", ["/health", "/openapi.json", "/api/telecommands",
                                  "/static/app.js", "/nowhere"])
def test_every_answer_says_nosniff(anonymous, path):
    response = anonymous.get(path)
    assert response.headers["X-Content-Type-Options"] == "nosniff", path
    response.close()


@pytest.mark.parametrize("host", ["evil.example", "evil.example:5000", "127.0.0.1.evil.example",
                                  "localhost.evil.example", "[::2]:5000", "", "a\x7fb"])
@pytest.mark.parametrize("path", ["/", "/login", "/api/telecommands", "/health"])
def test_a_request_for_another_host_is_refused(anonymous, host, path):
    response = anonymous.get(path, headers={"Host": host})
    body = assert_error(response, 400, "bad_host")
    assert "ALLOWED_HOSTS" in body["message"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_a_sign_in_through_another_host_is_refused_before_the_password_is_checked(anonymous,
                                                                                   database):
    add_user(database, "ann", "operator")
    response = anonymous.post("/login", headers={"Host": "evil.example"},
                              data={"username": "ann", "password": TEST_PASSWORD})
    assert_error(response, 400, "bad_host")
    assert "Set-Cookie" not in response.headers


@pytest.mark.parametrize("host", ["localhost", "localhost:5000", "LOCALHOST.", "127.0.0.1:5000",
                                  "[::1]:5000", "ground.example:443"])
def test_the_default_hosts_are_local_and_those_of_the_service_urls(make_app, host):
    client = make_app(ground_url="https://ground.example").test_client()
    assert client.get("/health", headers={"Host": host}).status_code == 200, host


def test_allowed_hosts_replaces_the_defaults_and_a_star_allows_any(make_app):
    only = make_app(allowed_hosts="mc.example, ops.example").test_client()
    assert only.get("/health", headers={"Host": "ops.example:8443"}).status_code == 200
    assert_error(only.get("/health", headers={"Host": "localhost"}), 400, "bad_host")
    anything = make_app(allowed_hosts="*").test_client()
    assert anything.get("/health", headers={"Host": "evil.example"}).status_code == 200


def test_another_site_cannot_sign_a_browser_in_or_out(app, anonymous, database):
    add_user(database, "ann", "operator")
    for headers in ({"Origin": "http://evil.example"}, {"Sec-Fetch-Site": "cross-site"}):
        response = anonymous.post("/login", headers=headers,
                                  data={"username": "ann", "password": TEST_PASSWORD})
        assert response.status_code == 403 and "Set-Cookie" not in response.headers
    client = signed_in(app, database, "bea", "operator")
    csrf = csrf_of(client.get("/").text)
    assert client.post("/logout", data={"csrf_token": csrf},
                       headers={"Origin": "http://evil.example"}).status_code == 403
    assert client.get("/").status_code == 200
