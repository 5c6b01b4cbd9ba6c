"""``GET /robots/{id}``: the robot as the registry holds it, for its own client.

robot-client's ``run`` knows only the robot's id and password: this tells it the address
to listen on for its modules (the registered ``ip_address`` and ``port``) and which modules
are its own, without a user's token for registry-api.
"""

from __future__ import annotations

from flask import Blueprint
from sqlalchemy import select

from mission_control.registry_models import Module, Robot
from mission_control.web import ApiError

from . import api, sessions
from .api import database, robot_id_of, settings

bp = Blueprint("robot_profile", __name__)
bp.register_error_handler(sessions.NoSession, api._no_session)  # the robot routes' one 401


@bp.get("/robots/<robot_id>")
def robot_profile(robot_id: str):
    """The session's robot: name, status, ip_address, port and its modules."""
    parsed = robot_id_of(robot_id)
    sessions.authenticate(database(), parsed, settings().robot_session_ttl_s)
    with database().autocommit() as connection:
        robot = connection.execute(select(Robot.id, Robot.name, Robot.status, Robot.ip_address,
                                          Robot.port).where(Robot.id == parsed)).first()
        if robot is None:
            raise ApiError(404, "not_found", f"no robot with id {parsed}")
        modules = connection.execute(select(Module.id, Module.name, Module.type, Module.status)
                                     .where(Module.robot_id == parsed).order_by(Module.name))
        return {"id": str(robot.id), "name": robot.name, "status": robot.status,
                "ip_address": robot.ip_address, "port": robot.port,
                "modules": [{"id": str(m.id), "name": m.name, "type": m.type,
                             "status": m.status} for m in modules]}
