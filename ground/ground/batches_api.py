"""The fleet-wide commands API (/api/batches): parse, call the domain (batches.py), answer."""

from __future__ import annotations

from flask import Blueprint, current_app, request

from mission_control import approval
from mission_control.authweb import current_identity, requires
from mission_control.db import Database
from mission_control.logs import current_request_id
from mission_control.web import error_response, parse_body, parse_query

from . import batches
from .batch_schemas import BatchQuery, NewBatch
from .schemas import TARGET_ID_MAX

bp = Blueprint("batches_api", __name__, url_prefix="/api")
# Room in a body for one more id: the longest id, its quotes, a comma and a space.
ID_ROOM_BYTES = TARGET_ID_MAX + 4


def database() -> Database:
    return current_app.extensions["database"]


@bp.errorhandler(batches.BatchRefused)
def _refused(error: batches.BatchRefused):
    return error_response(422, "batch_refused", error.message, offending=error.offending,
                          fields=[{"field": error.field, "message": error.message}])


@bp.errorhandler(batches.BatchNotFound)
def _not_found(error: batches.BatchNotFound):
    return error_response(404, "not_found", f"no batch with id {error}")


def body_limit(settings) -> int:
    """The largest body POST /api/batches reads: MAX_BODY_BYTES plus room for
    BATCH_MAX_TARGETS ids of the longest kind (a list of 2,000 UUIDs is about 80 KB, over the
    64 KiB every other route allows)."""
    return settings.max_body_bytes + settings.batch_max_targets * ID_ROOM_BYTES


@bp.post("/batches")
@requires("operator")
def create_batch():
    """Send one command to many robots or modules: one telecommand each, grouped in a batch."""
    settings = current_app.extensions["settings"]
    request.max_content_length = body_limit(settings)
    body = parse_body(NewBatch)
    with database().transaction() as session:
        batch = batches.create(session, body, current_identity().username,
                               max_targets=settings.batch_max_targets,
                               approval_policy=settings.approval_required,
                               request_id=current_request_id())
        data = {"id": str(batch.id), "count": batch.count}
    return data, 201, {"Location": f"/api/batches/{data['id']}"}


@bp.get("/batches")
def list_batches():
    """Batches newest first, each with its roll-up; ?limit= and ?offset= pagination."""
    query = parse_query(BatchQuery)
    with database().transaction() as session:
        items, total = batches.page(session, limit=query.limit, offset=query.offset)
        counts = batches.counts(session, [b.id for b in items])
        return {"items": [batches.to_json(b, counts[b.id]) for b in items], "total": total,
                "limit": query.limit, "offset": query.offset}


@bp.get("/batches/<batch_id>")
def get_batch(batch_id: str):
    """One batch's roll-up: its commands by status, which failed and why, whether it is done."""
    with database().transaction() as session:
        batch = batches.get(session, batches.parse_id(batch_id))
        return batches.to_json(batch, batches.counts(session, [batch.id])[batch.id],
                               batches.failed(session, batch.id))


@bp.post("/batches/<batch_id>/approve")
@requires("operator")
def approve_batch(batch_id: str):
    """Approve every command of a batch still awaiting approval (another user than its
    sender): one decision for the whole fleet-wide command."""
    settings = current_app.extensions["settings"]
    with database().transaction() as session:
        batch = batches.get(session, batches.parse_id(batch_id))
        try:
            approved = approval.approve_batch(session, batch.id, batch.created_by,
                                              approver=current_identity().username,
                                              timeout_s=settings.approval_timeout_s)
        except approval.SelfApproval as error:
            return error_response(403, "own_command", str(error))
        except approval.NotAwaitingApproval as error:
            return error_response(409, "not_awaiting_approval", str(error))
        return {"id": str(batch.id), "approved": approved}


@bp.post("/batches/<batch_id>/cancel")
@requires("operator")
def cancel_batch(batch_id: str):
    """Cancel the batch's commands not transmitted yet; the others run to their end."""
    with database().transaction() as session:
        batch = batches.get(session, batches.parse_id(batch_id))
        cancelled = batches.cancel(session, batch.id, user=current_identity().username)
    return {"id": str(batch.id), "cancelled": cancelled}
