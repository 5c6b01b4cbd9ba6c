"""The Stacks page: every command stack with its status and progress, live, and a Cancel
button for operators.

The table body is polled like the fleet's (fragments.version): a poll that sends the version it
holds gets 204 while nothing changed. Cancel posts a form (with the session's CSRF token) that
goes through the same domain function as the API (stacks.cancel); the guard refuses viewers.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, redirect, render_template, request, url_for
from markupsafe import Markup

from mission_control.auth import role_allows
from mission_control.authweb import current_identity, requires

from . import stacks
from .forms import refuse_cross_site_posts, target_names
from .fragments import version
from .pages import OPERATE

bp = Blueprint("stacks_pages", __name__)
bp.before_request(refuse_cross_site_posts)

PAGE_LIMIT = 50


def _stacks_body(can_operate: bool) -> dict[str, Any]:
    with current_app.extensions["database"].transaction() as session:
        items, total = stacks.page(session, status=None, limit=PAGE_LIMIT, offset=0)
        rows = render_template("partials/stack_rows.html",
                               stacks=stacks.many_to_json(session, items, with_steps=True),
                               names=target_names(session), total=total,
                               can_operate=can_operate)
    return {"rows": Markup(rows), "version": version(rows), "total": total}


def _can_operate() -> bool:
    return role_allows(current_identity().role, OPERATE)


@bp.get("/stacks")
def page():
    """Command stacks, newest first, with each step's status."""
    can_operate = _can_operate()
    return render_template("stacks.html", body=_stacks_body(can_operate),
                           can_operate=can_operate)


@bp.get("/ui/stacks")
def stacks_fragment():
    """Fragment: the stacks table's body, polled every second; 204 when nothing changed."""
    body = _stacks_body(_can_operate())
    if request.args.get("since") == body["version"]:
        return Response(status=204)
    return render_template("partials/stack_body.html", body=body)


@bp.post("/ui/stacks/<stack_id>/cancel")
@requires(OPERATE)
def cancel(stack_id: str):
    """Cancel a running stack, then back to the page (a final one: 409 with the reason)."""
    with current_app.extensions["database"].transaction() as session:
        try:
            stacks.cancel(session, stacks.parse_id(stack_id), user=current_identity())
        except stacks.NotCancellable as error:
            return render_template("message.html", title="Not cancelled", message=str(error),
                                   back=url_for("stacks_pages.page")), 409
    return redirect(url_for("stacks_pages.page"), 303)


@bp.errorhandler(stacks.StackNotFound)
def _not_found(error: stacks.StackNotFound):
    return render_template("message.html", title="Not found",
                           message=f"There is no stack with id {error}.",
                           back=url_for("stacks_pages.page")), 404
