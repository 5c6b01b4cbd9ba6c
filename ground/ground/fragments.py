"""The page's fragments that htmx polls: the queue's rows and one command's detail panel.

Each carries a version (a hash of its HTML): a poll that sends the version it holds gets 204
when nothing changed, so rows are only replaced when a command actually moved (a click is not
lost to a needless re-render).
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from flask import render_template, request
from markupsafe import Markup
from sqlalchemy.orm import Session

from mission_control.models import Telecommand
from mission_control.status import FINAL, Status

from . import telecommands
from .forms import target_names

QUEUE_LIMIT = 50


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


def version(html: str) -> str:
    return hashlib.sha256(html.encode()).hexdigest()[:16]


def queue_body(session: Session, status: Status | None) -> dict[str, Any]:
    items, total = telecommands.page(session, status=status, target=None, limit=QUEUE_LIMIT,
                                     offset=0)
    rows = render_template("partials/queue_rows.html", commands=items, total=total,
                           names=target_names(session), status=status)
    return {"rows": Markup(rows), "version": version(rows), "status": status}


def detail_panel(session: Session, command: Telecommand) -> dict[str, Any]:
    """The detail panel's content, its version (for 204 polling) and whether polling stops."""
    history = []
    previous: datetime | None = None
    for entry in command.history:
        history.append({"entry": entry,
                        "after_s": (entry.at - previous).total_seconds() if previous else None})
        previous = entry.at
    body = render_template("partials/detail_body.html", c=command, history=history,
                           names=target_names(session))
    return {"c": command, "body": Markup(body), "version": version(body),
            "final": Status(command.status) in FINAL}
