"""The registry REST API under /api/v1: five routes per resource, generated from resources.py.

Routes parse and validate, call crud, and map its outcomes to status codes in the handlers below.
Every route needs a signed-in caller (mission_control.authweb: reads a viewer, writes an admin);
each change is recorded as the signed-in user's. verify-password also serves robot-server,
which presents the UPLINK_KEY, and is throttled per robot.
"""

from __future__ import annotations


from flask import Blueprint, current_app
from sqlalchemy.exc import IntegrityError

from mission_control import throttle
from mission_control.authweb import current_identity, service
from mission_control.db import Database
from mission_control.passwords import verify_password
from mission_control.validation import summary
from mission_control.web import error_response, parse_body, parse_query, retry_later

from . import crud, events
from .resources import RESOURCES, Resource, list_query_model
from .schemas import DeleteQuery, EventQuery, VerifyPassword

bp = Blueprint("registry", __name__, url_prefix="/api/v1")


ROBOT_SCOPE = throttle.ROBOT_SCOPE  # the count of wrong robot passwords, per robot


def database() -> Database:
    return current_app.extensions["database"]


def actor() -> str:
    """Who a change is recorded as: the signed-in user (registry writes need an admin)."""
    return current_identity().username


@bp.errorhandler(crud.NotFound)
def _not_found(error: crud.NotFound):
    return error_response(404, "not_found", str(error))


@bp.errorhandler(crud.UnknownParent)
def _unknown_parent(error: crud.UnknownParent):
    fields = [{"field": error.field, "message": str(error)}]
    return error_response(422, "validation_error", summary(fields), fields=fields)


@bp.errorhandler(crud.NameTaken)
def _name_taken(error: crud.NameTaken):
    return error_response(409, "name_taken", str(error), field="name")


@bp.errorhandler(crud.HasChildren)
def _has_children(error: crud.HasChildren):
    return error_response(409, "has_children", str(error), children=error.children,
                          children_total=error.total)


@bp.errorhandler(throttle.Throttled)
def _throttled(error: throttle.Throttled):
    return retry_later(429, "too_many_attempts",
                       "too many wrong passwords for this robot; try again later",
                       error.retry_after, retry_after_s=error.retry_after)


@bp.errorhandler(IntegrityError)
def _integrity(error: IntegrityError):
    # crud turns name clashes and vanished parents into NameTaken / UnknownParent; this is a
    # last line of defence for any other constraint.
    return error_response(409, "conflict", "the change conflicts with existing data")


def _routes(resource: Resource) -> None:
    query_model = list_query_model(resource)
    base = f"/{resource.path}"

    def create_item():
        body = parse_body(resource.create)
        prepared = crud.prepare(resource, body.model_dump())
        data = crud.to_json(resource, crud.create_alone(database(), resource, prepared,
                                                            actor=actor()))
        return data, 201, {"Location": f"{bp.url_prefix}{base}/{data['id']}"}

    def list_items():
        query = parse_query(query_model)
        filters = {k: v for k, v in query.model_dump(exclude={"limit", "offset", "sort"}).items()
                   if v is not None}
        with database().autocommit() as connection:
            rows, total = crud.page(connection, resource, filters=filters, sort=query.sort,
                                    limit=query.limit, offset=query.offset)
        return {"items": [crud.to_json(resource, r) for r in rows], "total": total,
                "limit": query.limit, "offset": query.offset}

    def get_item(item_id: str):
        parsed_id = crud.parse_id(resource, item_id)
        with database().autocommit() as connection:
            row = crud.read(connection, resource, parsed_id)
        return crud.to_json(resource, row)

    def patch_item(item_id: str):
        parsed_id = crud.parse_id(resource, item_id)
        body = parse_body(resource.patch)
        prepared = crud.prepare(resource, body.model_dump(exclude_unset=True))
        with database().transaction() as session:
            row = crud.update(session, resource, parsed_id, prepared, actor=actor())
            return crud.to_json(resource, row)

    def delete_item(item_id: str):
        parsed_id = crud.parse_id(resource, item_id)
        query = parse_query(DeleteQuery)
        with database().transaction() as session:
            crud.delete(session, resource, parsed_id, cascade=query.cascade, actor=actor())
        return "", 204

    label = resource.label
    for view, doc in ((create_item, f"Create a {label}."), (list_items, f"List {label}s."),
                      (get_item, f"One {label}."), (patch_item, f"Change some fields of a {label}."),
                      (delete_item, f"Delete a {label} (?cascade=true with its children).")):
        view.__doc__ = doc
    endpoint = resource.path.replace("-", "_")
    bp.add_url_rule(base, f"create_{endpoint}", create_item, methods=["POST"])
    bp.add_url_rule(base, f"list_{endpoint}", list_items, methods=["GET"])
    bp.add_url_rule(f"{base}/<item_id>", f"get_{endpoint}", get_item, methods=["GET"])
    bp.add_url_rule(f"{base}/<item_id>", f"patch_{endpoint}", patch_item, methods=["PATCH"])
    bp.add_url_rule(f"{base}/<item_id>", f"delete_{endpoint}", delete_item, methods=["DELETE"])


for _resource in RESOURCES.values():
    _routes(_resource)


@bp.post("/robots/<item_id>/verify-password")
@service
def verify_robot_password(item_id: str):
    """204 when the password matches the robot's, 401 otherwise. For robot-server (bearer
    UPLINK_KEY) and admins. Each check costs an argon2 hash, so after throttle.MAX_FAILURES
    wrong passwords for one robot within throttle.WINDOW_S it answers 429 with Retry-After,
    even to the right password; and hashes wait their turn (passwords.py: 503 when busy)."""
    robots = RESOURCES["robots"]
    parsed_id = crud.parse_id(robots, item_id)
    body = parse_body(VerifyPassword)
    subject = throttle.subject_of(str(parsed_id))
    throttle.check(database(), ROBOT_SCOPE, subject)
    with database().autocommit() as connection:
        stored = crud.read(connection, robots, parsed_id).password_hash
    if not verify_password(stored, body.password):  # outside the transaction: it is slow
        throttle.record_failure(database(), ROBOT_SCOPE, subject)
        return error_response(401, "wrong_password", "the password does not match")
    throttle.clear(database(), ROBOT_SCOPE, subject)
    return "", 204


@bp.get("/events")
def list_events():
    """Change events after the cursor ?since=, oldest first."""
    query = parse_query(EventQuery)
    items = [events.to_json(e) for e in events.page(database(), query.since, query.limit)]
    return {"items": items, "next": items[-1]["id"] if items else query.since}

