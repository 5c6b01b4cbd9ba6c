"""The operator page's time tags: the send form's "not before" field and the contact-window
panel (partials/passes.html: each target's next pass and the commands waiting for it)."""

from __future__ import annotations

import re

from flask import Blueprint, current_app

from mission_control import passes
from mission_control.timeutil import utcnow

bp = Blueprint("passes_pages", __name__)

# What a datetime-local input sends: no seconds, maybe, and no offset (the field says UTC).
_LOCAL = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?")


def not_before_from_form(form) -> str | None:
    """The form's "not before" (UTC) as the API takes it; None when left empty. Anything that
    is no date-time is passed on for NewTelecommand's own message."""
    raw = form.get("not_before", "").strip()
    if not raw:
        return None
    if _LOCAL.fullmatch(raw):
        return raw + (":00" if raw.count(":") == 1 else "") + "Z"
    return raw


@bp.app_template_global("next_contacts")
def next_contacts() -> list[passes.Contact]:
    """Targets with a pass under way or to come, soonest first, and the commands waiting."""
    with current_app.extensions["database"].transaction() as session:
        contacts = passes.next_contacts(session, utcnow())
        for contact in contacts:  # read what the template shows before the session closes
            for command, _ in contact.waiting:
                _ = command.id, command.command_name
        session.expunge_all()
        return contacts
