"""Template filters and globals every page of ground shares: times, argument values, targets."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint

from mission_control.timeutil import utcnow

from . import verification_view

bp = Blueprint("filters", __name__)


@bp.app_template_filter("clock")
def clock(value: datetime | None) -> str:
    """HH:MM:SS (UTC) today, with the date on other days."""
    if value is None:
        return ""
    return value.strftime("%H:%M:%S" if value.date() == utcnow().date() else "%d %b %H:%M:%S")


@bp.app_template_filter("stamp")
def stamp(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + " UTC" if value else ""


@bp.app_template_filter("argvalue")
def argvalue(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "null" if value is None else str(value)


@bp.app_template_global("target_label")
def target_label(names: dict[str, str], target_id: str, module_id: str | None = None) -> str:
    label = names.get(target_id, target_id)
    return f"{label} › {names.get(module_id, module_id)}" if module_id else label


@bp.app_template_global("verification_of")
def verification_of(command: Any) -> dict[str, Any] | None:
    return verification_view.summary(command)
