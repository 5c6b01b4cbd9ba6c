"""Signing in to the operator page and out of it: /login and /logout.

Signing in checks the password like POST /api/auth/tokens (same throttle, same answer for an
unknown name and a wrong password) and opens a session: a token of kind "session", whose
secret lives only in an HttpOnly cookie. Signing out revokes it.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, redirect, render_template, request, url_for

from mission_control import auth
from mission_control.authweb import (
    SESSION_COOKIE, csrf_valid, public, session_identity,
)
from mission_control.passwords import HashingBusy
from mission_control.throttle import Throttled
from mission_control.validation import text_problem

from . import forms

bp = Blueprint("signin", __name__)
bp.before_request(forms.refuse_cross_site_posts)  # no session yet at /login: no CSRF token


def _next_page(raw: str | None) -> str:
    """Where to go after signing in: a path of this site only (never another host)."""
    parts = urlsplit(raw or "")
    if raw and raw.startswith("/") and not raw.startswith("//") and not parts.netloc and \
            text_problem(raw) is None and "\\" not in raw:
        return raw
    return url_for("pages.index")


@bp.get("/login")
@public
def login():
    """The sign-in form (or, when signed in already, the page)."""
    if session_identity() is not None:
        return redirect(_next_page(request.args.get("next")), 303)
    return render_template("login.html", next=_next_page(request.args.get("next")), error=None)


@bp.post("/login")
@public
def login_post():
    """Check the credentials; on success set the session cookie and go on."""
    form = request.form
    username, password = form.get("username", ""), form.get("password", "")
    next_page = _next_page(form.get("next"))
    status, error, retry_after = 401, "Wrong username or password.", None
    if username and password and len(username) <= 200 and len(password) <= 1024 and \
            text_problem(username) is None:
        database = current_app.extensions["database"]
        try:
            user = auth.sign_in(database, username, password)
        except auth.LoginRefused:
            pass
        except Throttled as throttled:
            status, retry_after = 429, throttled.retry_after
            error = f"Too many failed sign-ins; try again in {retry_after} s."
        except HashingBusy:
            status, error = 503, "The server is busy checking passwords; try again shortly."
        else:
            settings = current_app.extensions["settings"]
            _, secret = auth.issue_token(database, user.id, kind=auth.SESSION, label="page",
                                         expires_in_s=settings.session_ttl_s)
            response = redirect(next_page, 303)
            response.set_cookie(SESSION_COOKIE, secret, max_age=int(settings.session_ttl_s),
                                httponly=True, samesite="Lax",
                                secure=settings.session_cookie_secure)
            return response
    else:
        auth.login_refused("malformed")  # empty, too long or unprintable: not even checked
    html = render_template("login.html", next=next_page, error=error, username=username[:200])
    response = Response(html, status)
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


@bp.post("/logout")
@public
def logout():
    """Sign out: the session is revoked and the cookie cleared. It takes the session's CSRF
    token like every other form (another site cannot sign an operator out); a session that
    has already ended just goes back to the sign-in page."""
    identity = session_identity()
    if identity is not None:
        if not csrf_valid(identity):
            html = render_template("message.html", title="Not signed out",
                                   message="This form has expired or did not come from this "
                                           "page; reload the page and try again.",
                                   back=url_for("pages.index"))
            return Response(html, 403)
        auth.revoke(current_app.extensions["database"], identity.token_id, identity)
    response = redirect(url_for("signin.login"), 303)
    response.delete_cookie(SESSION_COOKIE, httponly=True, samesite="Lax",
                           secure=current_app.extensions["settings"].session_cookie_secure)
    return response
