"""The telecommand REST API: parse, call the domain, map its outcome to a status code."""

from __future__ import annotations

from flask import Blueprint, current_app
from sqlalchemy import select

from mission_control import authority, heartbeat, passes
from mission_control.authweb import current_identity, requires
from mission_control.catalog import CATALOG, CatalogError
from mission_control.logs import current_request_id
from mission_control.models import Target
from mission_control.timeutil import isoformat, utcnow
from mission_control.web import error_response, parse_body, parse_query, plain_header

from . import fleet, progress, telecommands
from .schemas import ListQuery, NewTelecommand

bp = Blueprint("api", __name__, url_prefix="/api")


def database():
    return current_app.extensions["database"]


def operator_name() -> str:
    """Who acts: the signed-in user (an X-Operator header is not honoured)."""
    return current_identity().username


@bp.errorhandler(CatalogError)
def _catalog_error(error: CatalogError):
    return error_response(422, "invalid_command", error.message, **error.details)


@bp.errorhandler(telecommands.UnknownTarget)
def _unknown_target(error: telecommands.UnknownTarget):
    return error_response(422, "unknown_target", str(error),
                          fields=[{"field": error.field, "message": str(error)}])


@bp.errorhandler(telecommands.CommandNotFound)
def _not_found(error):
    return error_response(404, "not_found", f"no telecommand with id {error}")


@bp.errorhandler(telecommands.NotCancellable)
def _not_cancellable(error: telecommands.NotCancellable):
    return error_response(409, "not_cancellable", str(error), status=error.status.value)


@bp.app_errorhandler(authority.ControlledByOther)
def _controlled(error: authority.ControlledByOther):
    return error_response(409, "controlled", str(error), target=error.target_id,
                          holder=error.holder, expires_at=isoformat(error.expires_at))


@bp.errorhandler(telecommands.IdempotencyConflict)
def _idempotency_conflict(error):
    return error_response(409, "idempotency_key_reused", str(error))


def _waiting(session, commands):
    """Which of these READY commands wait for a contact window (passes.py)."""
    return passes.waiting_for_pass(session, commands, utcnow())


@bp.post("/telecommands")
@requires("operator")
def create_telecommand():
    """Accept a new telecommand (READY, or AWAITING_APPROVAL); an Idempotency-Key makes
    retries safe."""
    body = parse_body(NewTelecommand)
    key = plain_header("Idempotency-Key", max_length=200)
    with database().transaction() as session:
        command, created = telecommands.issue(
            session, body, operator=operator_name(), idempotency_key=key,
            request_id=current_request_id(),
            approval_policy=current_app.extensions["settings"].approval_required)
        data = telecommands.to_json(command, waiting=_waiting(session, [command]))
    headers = {"Location": f"/api/telecommands/{data['id']}"}
    if not created:
        headers["Idempotent-Replayed"] = "true"
    return data, 201, headers


@bp.get("/telecommands")
def list_telecommands():
    """Telecommands newest first; ?status= filter, ?limit= and ?offset= pagination."""
    query = parse_query(ListQuery)
    with database().transaction() as session:
        items, total = telecommands.page(session, status=query.status, target=query.target,
                                         limit=query.limit, offset=query.offset)
        waiting = _waiting(session, items)
        return {"items": [telecommands.to_json(c, waiting=waiting) for c in items],
                "total": total,
                "limit": query.limit, "offset": query.offset}


@bp.get("/telecommands/<command_id>")
def get_telecommand(command_id: str):
    """One telecommand with its status history."""
    with database().transaction() as session:
        command = telecommands.get(session, telecommands.parse_id(command_id))
        return telecommands.to_json(command, with_history=True,
                                    waiting=_waiting(session, [command])) \
            | progress.describe(session, command)


@bp.put("/telecommands/<command_id>/cancel")
@requires("operator")
def cancel_telecommand(command_id: str):
    """Cancel a telecommand that is still AWAITING_APPROVAL or READY."""
    with database().transaction() as session:
        command = telecommands.cancel(session, telecommands.parse_id(command_id),
                                      operator=operator_name())
        return telecommands.to_json(command, with_history=True)


@bp.get("/catalog")
def catalog():
    """Every command each target kind accepts, with argument schemas and hazard flags."""
    return {kind: [spec.describe() for spec in commands.values()]
            for kind, commands in CATALOG.items()}


@bp.get("/workers")
def workers():
    """The command-senders seen lately: running, stopped, or lost (no heartbeat lately)."""
    settings = current_app.extensions["settings"]
    with database().transaction() as session:
        items = heartbeat.worker_states(session, settings.poll_interval_s)
    return {"items": items, "running": sum(1 for w in items if w["state"] == "running")}


@bp.get("/targets")
def targets():
    """The targets telecommands can be addressed to (not those removed from the registry)."""
    with database().transaction() as session:
        rows = session.scalars(select(Target).where(Target.removed_at.is_(None))
                               .order_by(Target.kind, Target.name)).all()
        return {"items": [{"id": t.id, "kind": t.kind, "name": t.name, "parent_id": t.parent_id}
                          for t in rows]}


@bp.get("/fleet")
def fleet_view():
    """Every robot, sorted by name: connection, last heartbeat, status, battery, modules."""
    with database().transaction() as session:
        robots = fleet.robots(session)
        return progress.with_jobs(fleet.to_json(robots),
                                  progress.current_jobs(session, [str(r.id) for r in robots]))
