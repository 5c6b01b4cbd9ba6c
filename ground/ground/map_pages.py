"""The Map page: a plan of one level (chosen with ?level=, else the first) with its fixed
assets and its robots at their latest reported positions, drawn by the server as inline SVG.

The plan polls its own fragment every second, like the fleet view (fleet_pages.py): 204 while
nothing moved. A robot on the plan links to its commands. Any signed-in role may look.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, Response, current_app, render_template, request, url_for
from markupsafe import Markup

from . import map_view
from .fragments import version

bp = Blueprint("map", __name__)


class UnknownLevel(Exception):
    pass


def _chosen(raw: str | None, choices: list[map_view.LevelChoice]) -> map_view.LevelChoice | None:
    """The level of ``?level=`` (UnknownLevel when there is none such), else the first."""
    if raw is None:
        return choices[0] if choices else None
    try:
        wanted = uuid.UUID(raw)
    except ValueError:
        raise UnknownLevel(raw) from None
    found = next((c for c in choices if c.id == wanted), None)
    if found is None:
        raise UnknownLevel(raw)
    return found


def _map_body(level_arg: str | None) -> dict[str, Any]:
    with current_app.extensions["database"].transaction() as session:
        choices = map_view.levels(session)
        level = _chosen(level_arg, choices)
        assets = map_view.assets(session, level.id) if level else []
        robots = map_view.robots(session, level.id) if level else []
        elsewhere = map_view.robots(session, None)
    body = render_template("partials/map_live.html", level=level,
                           plan=map_view.plan(assets, robots),
                           unplaced=[r for r in robots if not r.placed], elsewhere=elsewhere)
    return {"html": Markup(body), "version": version(body), "level": level, "levels": choices}


@bp.get("/map")
def page():
    """The plan of a level with its fixed assets and robots, live."""
    return render_template("map.html", map=_map_body(request.args.get("level")))


@bp.get("/ui/map")
def map_fragment():
    """Fragment: the plan and the lists beside it, polled every second; 204 when unchanged."""
    body = _map_body(request.args.get("level"))
    if request.args.get("since") == body["version"]:
        return Response(status=204)
    return render_template("partials/map_body.html", map=body)


@bp.errorhandler(UnknownLevel)
def _unknown_level(error: UnknownLevel):
    return render_template("message.html", title="Not found",
                           message=f"There is no level with id {str(error)[:100]!r}.",
                           back=url_for("map.page")), 404
