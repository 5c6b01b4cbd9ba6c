"""The navigation bar of every page: one list of its entries, in order, each with the role
that sees it and the blueprints whose pages it stands for (their pages highlight it).

The list is the one place to add a page to the console: the guard treats every blueprint
named here as a page (session cookie and CSRF token, HTML refusals; app.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, g, request

from mission_control.auth import role_allows

bp = Blueprint("nav", __name__)


@dataclass(frozen=True)
class NavItem:
    key: str  # the link's id is nav-<key>
    label: str
    endpoint: str
    blueprints: tuple[str, ...]
    role: str = "viewer"


NAV: tuple[NavItem, ...] = (
    NavItem("commands", "Commands", "pages.index", ("pages", "approval_pages", "passes_pages")),
    NavItem("stacks", "Stacks", "stacks_pages.page", ("stacks_pages",)),
    NavItem("batches", "Batches", "batches_pages.page", ("batches_pages",)),
    NavItem("fleet", "Fleet", "fleet.page", ("fleet",)),
    NavItem("telemetry", "Telemetry", "telemetry_pages.page", ("telemetry_pages",)),
    NavItem("alerts", "Alerts", "alerts_pages.page", ("alerts_pages",)),
    NavItem("map", "Map", "map.page", ("map",)),
    NavItem("reports", "Reports", "reports.page", ("reports",)),
    NavItem("users", "Users", "users.page", ("users",), role="admin"),
)

PAGE_BLUEPRINTS: tuple[str, ...] = tuple(name for item in NAV for name in item.blueprints)


@bp.app_context_processor
def _navigation() -> dict[str, Any]:
    """The entries the signed-in user may see, and the one of the page shown (if any)."""
    identity = g.get("identity")
    if identity is None:
        return {"nav_items": [], "nav_current": None}
    items = [item for item in NAV if role_allows(identity.role, item.role)]
    current = next((item.key for item in items if request.blueprint in item.blueprints), None)
    return {"nav_items": items, "nav_current": current}
