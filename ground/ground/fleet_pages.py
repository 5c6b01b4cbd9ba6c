"""The fleet view of the operators' page: every robot and its modules, live.

The page polls its table body like the command queue does (fragments.py): the poll sends the
version it holds and gets 204 while nothing changed. Any signed-in role may look.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, render_template, request
from markupsafe import Markup

from . import fleet, progress
from .fragments import version

bp = Blueprint("fleet", __name__)


def _fleet_body() -> dict[str, Any]:
    with current_app.extensions["database"].transaction() as session:
        robots = fleet.robots(session)
        jobs = progress.current_jobs(session, [str(r.id) for r in robots])
    rows = render_template("partials/fleet_rows.html", robots=robots, jobs=jobs)
    return {"rows": Markup(rows), "version": version(rows), "total": len(robots),
            "online": fleet.online_count(robots)}


@bp.get("/fleet")
def page():
    """The fleet: every robot with its connection, status, battery and modules."""
    return render_template("fleet.html", fleet=_fleet_body(),
                           timeout_s=current_app.extensions["settings"].heartbeat_timeout)


@bp.get("/ui/fleet")
def fleet_fragment():
    """Fragment: the fleet table's body, polled every second; 204 when nothing changed."""
    body = _fleet_body()
    if request.args.get("since") == body["version"]:
        return Response(status=204)
    return render_template("partials/fleet_body.html", fleet=body, oob=True)
