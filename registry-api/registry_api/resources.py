"""The six registry resources, each described once: table, bodies, parent, children, filters.

The CRUD functions (crud.py), the routes (api.py) and the OpenAPI document (openapi.py) are
all generated from these descriptions, so a rule such as "a level's children are its robots
and fixed assets" lives here and nowhere else.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

from pydantic import BaseModel, Field, create_model

from mission_control.models import Base
from mission_control.passwords import hash_password
from mission_control.registry_models import FixedAsset, Level, Module, Project, Robot, Workspace

from . import schemas


@dataclass(frozen=True)
class Resource:
    path: str  # URL segment and key: "fixed-assets"
    entity: str  # singular, in events and messages: "fixed_asset"
    model: type[Base]
    create: type[BaseModel]
    patch: type[BaseModel]
    out: type[BaseModel]
    parent_field: str | None = None  # "level_id"
    parent: str | None = None  # path of the parent resource
    children: tuple[tuple[str, str], ...] = ()  # (child path, its foreign key)
    has_status: bool = False
    # API field -> columns it writes, where they differ from {field: value}.
    columns: dict[str, Callable[[Any], dict[str, Any]]] = field(default_factory=dict)
    # Response fields computed from the row rather than read from a same-named column.
    derived: Callable[[Any], dict[str, Any]] = lambda row: {}

    @property
    def label(self) -> str:
        return self.entity.replace("_", " ")


def _hashed(column: str) -> Callable[[Any], dict[str, Any]]:
    return lambda value: {column: hash_password(value) if value is not None else None}


def _position(value: Any) -> dict[str, Any]:
    return {"x": value["x"], "y": value["y"], "z": value["z"]}


RESOURCES: dict[str, Resource] = {r.path: r for r in (
    Resource("workspaces", "workspace", Workspace, schemas.WorkspaceIn, schemas.WorkspacePatch,
             schemas.WorkspaceOut, children=(("projects", "workspace_id"),)),
    Resource("projects", "project", Project, schemas.ProjectIn, schemas.ProjectPatch,
             schemas.ProjectOut, "workspace_id", "workspaces",
             children=(("levels", "project_id"),)),
    Resource("levels", "level", Level, schemas.LevelIn, schemas.LevelPatch, schemas.LevelOut,
             "project_id", "projects",
             children=(("robots", "level_id"), ("fixed-assets", "level_id"))),
    Resource("robots", "robot", Robot, schemas.RobotIn, schemas.RobotPatch, schemas.RobotOut,
             "level_id", "levels", children=(("modules", "robot_id"),), has_status=True,
             columns={"password": _hashed("password_hash"),
                      "network_password": _hashed("network_password_hash")},
             derived=lambda row: {"connection": "online" if row.online else "offline",
                                  "has_password": row.password_hash is not None,
                                  "has_network_password": row.network_password_hash is not None}),
    Resource("modules", "module", Module, schemas.ModuleIn, schemas.ModulePatch,
             schemas.ModuleOut, "robot_id", "robots", has_status=True),
    Resource("fixed-assets", "fixed_asset", FixedAsset, schemas.FixedAssetIn,
             schemas.FixedAssetPatch, schemas.FixedAssetOut, "level_id", "levels",
             columns={"position": _position},
             derived=lambda row: {"position": {"x": row.x, "y": row.y, "z": row.z}}),
)}


def list_query_model(resource: Resource) -> type[schemas.ListQuery]:
    """The query string of GET /<resource>: ListQuery's page and order, and the resource's
    parent and status filters."""
    filters: dict[str, Any] = {}
    if resource.parent_field:
        filters[resource.parent_field] = (uuid.UUID | None, Field(
            None, description="only the children of this parent"))
    if resource.has_status:
        filters["status"] = (schemas.Status | None, None)
    name = "".join(p.title() for p in resource.path.split("-")) + "Query"
    return create_model(name, __base__=schemas.ListQuery, **filters)
