"""The operator page's contact-window panel (partials/passes.html: each target's next pass
and the commands waiting for it), which htmx polls like the approvals panel: 204 while
nothing changed. (The send form's "not before" field is read in forms.py.)"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, render_template, request
from markupsafe import Markup

from mission_control import passes
from mission_control.timeutil import utcnow

from .fragments import version

bp = Blueprint("passes_pages", __name__)


def next_contacts() -> list[passes.Contact]:
    """Targets with a pass under way or to come, soonest first, and the commands waiting."""
    with current_app.extensions["database"].transaction() as session:
        contacts = passes.next_contacts(session, utcnow())
        for contact in contacts:  # read what the template shows before the session closes
            for command, _ in contact.waiting:
                _ = command.id, command.command_name
        session.expunge_all()
        return contacts


def _body() -> str:
    return render_template("partials/passes_body.html", contacts=next_contacts())


@bp.app_template_global("passes_panel")
def passes_panel(body: str | None = None) -> Markup:
    """The whole panel, carrying the version of its content that its polls send back."""
    body = _body() if body is None else body
    return Markup(render_template("partials/passes.html", body=Markup(body),
                                  version=version(body)))


@bp.get("/ui/passes")
def passes_fragment():
    """Fragment: the contact-window panel, polled; 204 when nothing changed."""
    body = _body()
    if request.args.get("since") == version(body):
        return Response(status=204)
    return Response(passes_panel(body))
