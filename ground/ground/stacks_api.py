"""The command stacks API: parse, call the domain (stacks.py), map its outcome to a status."""

from __future__ import annotations

from flask import Blueprint, current_app

from mission_control.authweb import current_identity, requires
from mission_control.catalog import CatalogError
from mission_control.db import Database
from mission_control.web import error_response, parse_body, parse_query

from . import stacks
from .stack_schemas import NewStack, StackQuery

bp = Blueprint("stacks_api", __name__, url_prefix="/api")


def database() -> Database:
    return current_app.extensions["database"]


@bp.errorhandler(stacks.StackNotFound)
def _not_found(error: stacks.StackNotFound):
    return error_response(404, "not_found", f"no stack with id {error}")


@bp.errorhandler(stacks.NotCancellable)
def _not_cancellable(error: stacks.NotCancellable):
    return error_response(409, "not_cancellable", str(error), status=error.status)


@bp.errorhandler(stacks.StepRefused)
def _step_refused(error: stacks.StepRefused):
    if isinstance(error.error, CatalogError):
        return error_response(422, "invalid_command", str(error), step=error.index,
                              **error.error.details)
    field = f"steps.{error.index}.{error.error.field}" if error.error.field == "module_id" \
        else error.error.field
    return error_response(422, "unknown_target", str(error), step=error.index,
                          fields=[{"field": field, "message": str(error.error)}])


@bp.post("/stacks")
@requires("operator")
def create_stack():
    """Create a stack: every step checked against the catalog, the first one sent."""
    body = parse_body(NewStack)
    with database().transaction() as session:
        stack = stacks.create(
            session, body, current_identity(),
            approval_policy=current_app.extensions["settings"].approval_required)
        data = stacks.many_to_json(session, [stack], with_steps=True)[0]
    return data, 201, {"Location": f"/api/stacks/{data['id']}"}


@bp.get("/stacks")
def list_stacks():
    """Stacks newest first, with their progress; ?status=, ?limit= and ?offset=."""
    query = parse_query(StackQuery)
    with database().transaction() as session:
        items, total = stacks.page(session, status=query.status, limit=query.limit,
                                   offset=query.offset)
        return {"items": stacks.many_to_json(session, items), "total": total,
                "limit": query.limit, "offset": query.offset}


@bp.get("/stacks/<stack_id>")
def get_stack(stack_id: str):
    """One stack with its progress and every step's command and status."""
    with database().transaction() as session:
        stack = stacks.get(session, stacks.parse_id(stack_id))
        return stacks.many_to_json(session, [stack], with_steps=True)[0]


@bp.post("/stacks/<stack_id>/cancel")
@requires("operator")
def cancel_stack(stack_id: str):
    """Cancel a RUNNING stack: the steps not yet transmitted are cancelled or skipped."""
    with database().transaction() as session:
        stack = stacks.cancel(session, stacks.parse_id(stack_id), user=current_identity())
        return stacks.many_to_json(session, [stack], with_steps=True)[0]
