"""The page's fragments that htmx polls: the queue's rows (filtered by status or target) and one
command's detail panel.

Each carries a version (a hash of its HTML): a poll that sends the version it holds gets 204
when nothing changed, so rows are only replaced when a command actually moved (a click is not
lost to a needless re-render).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import render_template, request
from markupsafe import Markup
from sqlalchemy.orm import Session

from mission_control.models import Telecommand
from mission_control.status import FINAL, Status
from mission_control.validation import text_problem

from . import progress, telecommands
from .forms import target_names
from .schemas import TARGET_ID_MAX

QUEUE_LIMIT = 50


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


def version(html: str) -> str:
    return hashlib.sha256(html.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class QueueFilter:
    """What the queue shows: commands of one status, to one target (a robot's commands
    include its modules'), or all."""

    status: Status | None = None
    target: str | None = None


def queue_filter(args: Mapping[str, str]) -> QueueFilter:
    """The filter of the page's query string; a value that cannot be one is ignored."""
    status, target = args.get("status"), args.get("target") or ""
    return QueueFilter(
        status=Status(status) if status in Status.__members__ else None,
        target=target if len(target) <= TARGET_ID_MAX and text_problem(target) is None
        and target.strip() else None)


def queue_body(session: Session, shown: QueueFilter) -> dict[str, Any]:
    items, total = telecommands.page(session, status=shown.status, target=shown.target,
                                     limit=QUEUE_LIMIT, offset=0)
    names = target_names(session)
    rows = render_template("partials/queue_rows.html", commands=items, total=total,
                           names=names, status=shown.status, target=shown.target)
    return {"rows": Markup(rows), "version": version(rows), "status": shown.status,
            "target": shown.target,
            "target_name": names.get(shown.target, shown.target) if shown.target else None}


def detail_panel(session: Session, command: Telecommand) -> dict[str, Any]:
    """The detail panel's content, its version (for 204 polling) and whether polling stops."""
    history = []
    previous: datetime | None = None
    for entry in command.history:
        history.append({"entry": entry,
                        "after_s": (entry.at - previous).total_seconds() if previous else None})
        previous = entry.at
    body = render_template("partials/detail_body.html", c=command, history=history,
                           names=target_names(session), job=progress.snapshot(session, command))
    return {"c": command, "body": Markup(body), "version": version(body),
            "final": Status(command.status) in FINAL}
