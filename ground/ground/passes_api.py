"""The contact-window API: a target's passes (rules in mission_control.passes)."""

from __future__ import annotations

from flask import Blueprint, current_app, request

from mission_control import passes
from mission_control.authweb import requires
from mission_control.db import Database
from mission_control.timeutil import isoformat, utcnow
from mission_control.validation import text_problem
from mission_control.web import error_response, invalid, parse_body

from .passes_schemas import PassList
from .schemas import TARGET_ID_MAX

bp = Blueprint("passes_api", __name__, url_prefix="/api")
# MAX_PASSES passes of about 70 bytes each do not fit the default 64 KiB of a request body.
MAX_BODY_BYTES = 256 * 1024


def database() -> Database:
    return current_app.extensions["database"]


@bp.errorhandler(passes.TargetNotFound)
def _not_found(error: passes.TargetNotFound):
    return error_response(404, "not_found", f"no target with id {str(error)[:80]!r}")


def _target_id(raw: str) -> str:
    if not raw or len(raw) > TARGET_ID_MAX or text_problem(raw):
        raise passes.TargetNotFound(raw[:80])
    return raw


def _answer(target_id: str, rows) -> dict:
    now = utcnow()
    upcoming = next((p for p in rows if p.end_at > now), None)
    as_json = [{"start_at": isoformat(p.start_at), "end_at": isoformat(p.end_at)} for p in rows]
    return {"target": target_id, "passes": as_json,
            "next_pass": None if upcoming is None else
            {"start_at": isoformat(upcoming.start_at), "end_at": isoformat(upcoming.end_at)}}


@bp.get("/targets/<target_id>/passes")
def list_passes(target_id: str):
    """A target's contact windows, earliest first, and the next one."""
    target_id = _target_id(target_id)
    with database().transaction() as session:
        return _answer(target_id, passes.listed(session, target_id))


@bp.put("/targets/<target_id>/passes")
@requires("admin")
def put_passes(target_id: str):
    """Replace a target's contact windows; its waiting commands are scheduled anew."""
    target_id = _target_id(target_id)
    request.max_content_length = MAX_BODY_BYTES
    body = parse_body(PassList)
    windows = [(p.start_at, p.end_at) for p in body.passes]
    problems = passes.problems(windows)
    if problems:
        raise invalid([{**p, "field": f"passes.{p['field']}"} for p in problems])
    with database().transaction() as session:
        return _answer(target_id, passes.replace(session, target_id, windows))
