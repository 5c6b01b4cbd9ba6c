"""The Users page (admins only): every user with their role, whether they may sign in and
when they last did; forms to create a user, change a role, disable and enable.

The rules are the user API's (mission_control.users and the bodies of auth_schemas): a form
becomes the same ``NewUser`` or ``UserChange`` the API validates, and a refusal (name taken,
the last admin) is shown in the page, beside the form that caused it. Passwords are never
sent back. Forms work with htmx (the section is swapped) and without (the page is rendered).
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, current_app, render_template, request
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import IntegrityError

from mission_control import users
from mission_control.auth import ROLES
from mission_control.auth_schemas import NewUser, UserChange
from mission_control.authweb import current_identity, requires
from mission_control.passwords import HashingBusy, hash_password
from mission_control.validation import field_errors

from . import forms
from .forms import Refused
from .fragments import is_htmx

bp = Blueprint("users", __name__)
bp.before_request(forms.refuse_cross_site_posts)

ADMIN = "admin"
ACTIONS = {"role", "disable", "enable"}


def database():
    return current_app.extensions["database"]


def _validated(model: type[BaseModel], data: dict[str, Any]) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        errors = {f["field"]: f["message"] for f in field_errors(error, "form")}
        raise Refused(errors, "Not saved: correct the fields marked below.") from None


def _section(**extra: Any) -> dict[str, Any]:
    with database().transaction() as session:
        rows = users.all_users(session)
        last = users.last_sign_ins(session)
        listed = [{"user": u, "last_sign_in": last.get(u.id)} for u in rows]
    return {"users": listed, "roles": ROLES, "me": current_identity().username,
            "new": {}, "errors": {}, "error": None, "notice": None, "row_error": None, **extra}


def _answer(section: dict[str, Any], status: int = 200) -> tuple[str, int]:
    template = "partials/users_section.html" if is_htmx() else "users.html"
    return render_template(template, section=section), status


@bp.get("/users")
@requires(ADMIN)
def page():
    """Every user by name, with the forms to manage them."""
    return _answer(_section())


@bp.post("/users")
@requires(ADMIN)
def create():
    """Create a user with a role; the section shows them, or says why not."""
    form = request.form
    typed = {"username": form.get("username", ""), "role": form.get("role", "viewer")}
    try:
        body = _validated(NewUser, {**typed, "password": form.get("password", "")})
        password_hash = hash_password(body.password)  # before the transaction: it is slow
        try:
            with database().transaction() as session:
                users.create(session, body.username, body.role, password_hash)
        except IntegrityError:  # the same name created at the same moment by someone else
            raise users.UserError(409, "name_taken", f"a user named {body.username!r} exists "
                                                     "already", "username") from None
    except users.UserError as error:
        return _answer(_section(new=typed, errors={error.field or "form": error.message},
                                error=f"Not created: {error.message}."), error.status)
    except Refused as refused:
        errors = refused.errors
        if "username" in errors:  # the rule in words, rather than the schema's pattern
            errors["username"] = users.username_problem(typed["username"]) or errors["username"]
        return _answer(_section(new=typed, errors=errors, error=refused.message), 422)
    except HashingBusy:
        return _answer(_section(new=typed, error="The server is busy checking passwords; try "
                                                 "again shortly."), 503)
    notice = f"Created {body.username} ({body.role})."
    return _answer(_section(notice=notice), 201)


@bp.post("/users/<user_id>")
@requires(ADMIN)
def change(user_id: str):
    """Change one user: ``action`` role (with ``role``), disable or enable."""
    action = request.form.get("action", "")
    if action not in ACTIONS:
        return _answer(_section(error="Nothing changed: the form named no known action."), 422)
    change = {"role": request.form.get("role", "")} if action == "role" \
        else {"disabled": action == "disable"}
    try:
        body = _validated(UserChange, change)
        with database().transaction() as session:
            user = users.find(session, user_id=_user_id(user_id))
            users.update(session, user, role=body.role, disabled=body.disabled)
            name = user.username
    except Refused as refused:
        text = "; ".join(refused.errors.values())
        return _answer(_section(row_error={"id": user_id, "text": f"Not changed: {text}."}), 422)
    except users.UserError as error:
        if error.status == 404:
            return _answer(_section(error=f"Nothing changed: {error.message}."), 404)
        row_error = {"id": user_id, "text": f"Not changed: {error.message}."}
        return _answer(_section(row_error=row_error), error.status)
    done = {"role": f"{name} is now {body.role}.", "disable": f"{name} can no longer sign in.",
            "enable": f"{name} can sign in again."}[action]
    return _answer(_section(notice=done))


def _user_id(raw: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise users.UserError(404, "not_found", f"no user {raw[:100]!r}") from None
