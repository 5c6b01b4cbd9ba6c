"""Authentication and roles for a Flask service: one guard before every request.

Every endpoint needs a signed-in caller unless it is public (/health, /metrics, /openapi.json,
/docs and its assets, static files, and views marked ``@public`` such as the sign-in routes).
The role it needs is what the view declares with ``@requires(role)``, else ``viewer`` for
reads (GET, HEAD, OPTIONS) and ``admin`` for anything else: a write nobody thought about is an
admin's.

API calls sign in with ``Authorization: Bearer <token>``: without a usable one they get 401
JSON with ``WWW-Authenticate: Bearer``; with too small a role, 403 naming the role needed.
A view marked ``@service`` (a check one of our own services makes, such as robot-server
checking a robot's password) also lets in a caller presenting the UPLINK_KEY as its bearer,
instead of a user's token; ``current_identity()`` is then None.
The blueprints of the operator page (``page_blueprints``) sign in with the session cookie that
/login sets instead, and every write there must carry the session's CSRF token (form field
``csrf_token`` or header ``X-CSRF-Token``); pages answer in HTML (see ``page_refusal``).
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Callable

from flask import Flask, Response, current_app, g, request

from . import access, auth, keys
from .auth import Identity
from .web import error_response

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PUBLIC_BLUEPRINTS = frozenset({"health", "docs", "metrics"})
SESSION_COOKIE = "mc_session"
CSRF_FIELD, CSRF_HEADER = "csrf_token", "X-CSRF-Token"


def public(view: Callable) -> Callable:
    """Mark a view as open to anyone (it does its own checking, or there is nothing to guard)."""
    view.auth_public = True
    return view


def requires(role: str) -> Callable[[Callable], Callable]:
    """Mark the role a view needs (instead of viewer for reads, admin for writes)."""
    if role not in auth.ROLES:
        raise ValueError(f"unknown role {role!r}")

    def mark(view: Callable) -> Callable:
        view.auth_role = role
        return view

    return mark


def service(view: Callable) -> Callable:
    """Mark a view that our own services call too: a bearer UPLINK_KEY passes the guard there,
    as does a user's token with the view's role (``@requires``, or the default)."""
    view.auth_service = True
    return view


def current_identity() -> Identity | None:
    """The signed-in caller of this request (the guard has made sure there is one), or None
    for a service presenting the UPLINK_KEY to a ``@service`` view."""
    return g.identity


def protect(app: Flask, *, page_blueprints: tuple[str, ...] = (),
            page_refusal: Callable[[int, str], Response] | None = None) -> None:
    """Guard every request of ``app``. ``page_refusal(status, reason)`` renders the HTML
    answer of a page request that is refused (401 not signed in, 403 role or CSRF)."""
    app.extensions["auth_pages"] = frozenset(page_blueprints)
    app.extensions["auth_page_refusal"] = page_refusal
    app.before_request(_guard)


def needed_role(view: Callable, method: str) -> str:
    return getattr(view, "auth_role", None) or ("viewer" if method in SAFE_METHODS else "admin")


def is_public(endpoint: str | None) -> bool:
    if endpoint is None:  # no route matched: the 404 or 405 says no more than that
        return True
    view = current_app.view_functions.get(endpoint)
    return (endpoint == "static" or endpoint.split(".")[0] in PUBLIC_BLUEPRINTS
            or getattr(view, "auth_public", False))


def _guard() -> Response | None:
    if is_public(request.endpoint):
        return None
    view = current_app.view_functions[request.endpoint]
    needed = needed_role(view, request.method)
    if request.blueprint in current_app.extensions["auth_pages"]:
        return _page_guard(needed)
    if getattr(view, "auth_service", False) and is_service_key(bearer_token()):
        g.identity = None
        access.name_caller("uplink-key")
        return None
    identity = auth.identify(current_app.extensions["database"], bearer_token())
    if identity is None:
        return unauthorized()
    if not auth.role_allows(identity.role, needed):
        return forbidden(needed, identity.role)
    g.identity = identity
    return None


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def is_service_key(token: str | None) -> bool:
    """Whether ``token`` is the UPLINK_KEY (compared in constant time)."""
    return token is not None and keys.same_secret(
        token, keys.uplink_key(current_app.extensions["settings"]))


def unauthorized(message: str = "sign in: send Authorization: Bearer <token> "
                                 "(POST /api/auth/tokens makes one)") -> Response:
    response = error_response(401, "unauthorized", message)
    response.headers["WWW-Authenticate"] = 'Bearer realm="mission-control"'
    return response


def forbidden(needed: str, role: str) -> Response:
    return error_response(403, "forbidden", f"this needs the {needed} role; you are {role}",
                          required_role=needed)


# --- the operator page's sessions ---------------------------------------------------------

def session_identity() -> Identity | None:
    return auth.identify(current_app.extensions["database"],
                         request.cookies.get(SESSION_COOKIE), kind=auth.SESSION)


def csrf_token(identity: Identity) -> str:
    """The CSRF token of a page session: derived from the session (another session's token
    does not match) and SECRET_KEY (nobody can derive it without the key)."""
    key = keys.secret_key(current_app.extensions["settings"]).encode()
    return hmac.new(key, f"csrf:{identity.token_id}".encode(), hashlib.sha256).hexdigest()


def csrf_valid(identity: Identity) -> bool:
    given = request.headers.get(CSRF_HEADER) or request.form.get(CSRF_FIELD)
    return keys.same_secret(given, csrf_token(identity))


def _page_guard(needed: str) -> Response | None:
    refuse = current_app.extensions["auth_page_refusal"] or _plain_refusal
    identity = session_identity()
    if identity is None:
        return refuse(401, "Sign in to continue.")
    if request.method not in SAFE_METHODS and not csrf_valid(identity):
        return refuse(403, "This form has expired or did not come from this page; reload the "
                           "page and try again.")
    if not auth.role_allows(identity.role, needed):
        return refuse(403, f"This needs the {needed} role; you are signed in as "
                           f"{identity.username} ({identity.role}).")
    g.identity = identity
    return None


def _plain_refusal(status: int, reason: str) -> Response:
    return error_response(status, "unauthorized" if status == 401 else "forbidden", reason)
