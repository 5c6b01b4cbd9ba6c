"""Request and response bodies of the registry, one set per resource; PATCH bodies are derived.

A PATCH model has the create model's fields, all optional; ``null`` passes only where the
create model allows it, so a PATCH can clear ``ip_address`` but never ``name``.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from .types import (
    Coordinate, Description, Email, IpAddress, Kind, Name, Port, Secret, ShortText, Ssid, Status,
    Timestamp,
)

STRICT = ConfigDict(extra="forbid")


class WorkspaceIn(BaseModel):
    model_config = STRICT
    name: Name
    description: Description = ""


class ProjectIn(BaseModel):
    model_config = STRICT
    workspace_id: uuid.UUID
    name: Name
    description: Description = ""


class LevelIn(BaseModel):
    model_config = STRICT
    project_id: uuid.UUID
    name: Name
    description: Description = ""
    elevation: Coordinate = Field(0.0, description="metres above the project's reference")


class RobotIn(BaseModel):
    model_config = STRICT
    level_id: uuid.UUID | None = None
    name: Name
    owner: ShortText
    owner_email: Email
    status: Status = "IDLE"
    last_online: Timestamp | None = None
    network_ssid: Ssid | None = None
    network_password: Secret | None = Field(None, description="write-only; stored hashed")
    ip_address: IpAddress | None = None
    port: Port | None = None
    password: Secret | None = Field(None, description="write-only; stored as an argon2 hash")


class ModuleIn(BaseModel):
    model_config = STRICT
    robot_id: uuid.UUID
    name: Name
    type: Kind
    ip_address: IpAddress | None = None
    port: Port | None = None
    last_online: Timestamp | None = None
    status: Status = "IDLE"


class Position(BaseModel):
    model_config = STRICT
    x: Coordinate
    y: Coordinate
    z: Coordinate


class FixedAssetIn(BaseModel):
    model_config = STRICT
    level_id: uuid.UUID
    name: Name
    description: Description = ""
    asset_type: Kind
    position: Position = Field(default_factory=lambda: Position(x=0.0, y=0.0, z=0.0))


def _without_default(extra: dict[str, Any]) -> Any:
    def update(schema: dict[str, Any]) -> None:
        schema.update(extra)
        schema.pop("default", None)  # absent means "leave as is", not null

    return update


def patch_model(create: type[BaseModel]) -> type[BaseModel]:
    """``create``'s fields, each optional; an absent field is left as it is."""
    fields: dict[str, Any] = {}
    for name, info in create.model_fields.items():
        annotation = Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        fields[name] = (annotation, Field(None, description=info.description,
                                          json_schema_extra=_without_default(extra)))
    model_name = create.__name__.removesuffix("In") + "Patch"
    return create_model(model_name, __config__=STRICT, **fields)


WorkspacePatch = patch_model(WorkspaceIn)
ProjectPatch = patch_model(ProjectIn)
LevelPatch = patch_model(LevelIn)
RobotPatch = patch_model(RobotIn)
ModulePatch = patch_model(ModuleIn)
FixedAssetPatch = patch_model(FixedAssetIn)


class _Out(BaseModel):
    id: uuid.UUID
    created_at: datetime
    updated_at: datetime


class WorkspaceOut(_Out):
    name: str
    description: str


class ProjectOut(_Out):
    workspace_id: uuid.UUID
    name: str
    description: str


class LevelOut(_Out):
    project_id: uuid.UUID
    name: str
    description: str
    elevation: float


class RobotOut(_Out):
    level_id: uuid.UUID | None
    name: str
    owner: str
    owner_email: str
    status: Status
    last_online: datetime | None
    connection: Literal["online", "offline"] = Field(
        description="online while robot-server receives its heartbeats (read-only)")
    network_ssid: str | None
    ip_address: str | None
    port: int | None
    has_password: bool
    has_network_password: bool


class ModuleOut(_Out):
    robot_id: uuid.UUID
    name: str
    type: str
    ip_address: str | None
    port: int | None
    last_online: datetime | None
    status: Status


class PositionOut(BaseModel):
    x: float
    y: float
    z: float


class FixedAssetOut(_Out):
    level_id: uuid.UUID
    name: str
    description: str
    asset_type: str
    position: PositionOut


# --- query strings: the list limits and sort orders, stated here only ------------------------

Sort = Literal["name", "-name", "created_at", "-created_at"]


class ListQuery(BaseModel):
    """The query string every list shares; api.list_query_model adds each resource's filters."""

    model_config = STRICT
    limit: int = Field(50, ge=1, le=500, description="how many items, at most")
    offset: int = Field(0, ge=0, le=1_000_000_000, description="how many items to skip")
    sort: Sort = Field("created_at", description="order; a leading - reverses it")


class DeleteQuery(BaseModel):
    model_config = STRICT
    cascade: bool = Field(False, description="delete the item's descendants too")


class EventQuery(BaseModel):
    model_config = STRICT
    since: int = Field(0, ge=0, le=2**63 - 1, description="cursor: the last event id seen")
    limit: int = Field(100, ge=1, le=1000, description="how many events, at most")


class VerifyPassword(BaseModel):
    model_config = STRICT
    password: Secret


class EventOut(BaseModel):
    id: int = Field(description="the event's position in the feed, and the cursor: pass it as "
                                "?since= to read what follows. Positions only grow; an event "
                                "appears once every transaction that could precede it has ended")
    entity: str
    entity_id: uuid.UUID
    action: str = Field(description="created, updated or deleted")
    changed: list[str] = Field(description="the fields written (names only, never values)")
    actor: str | None = Field(description="who made the change: the signed-in user, or "
                                          "registry-seed; null for changes made before "
                                          "the registry had users")
    at: datetime


class EventPage(BaseModel):
    items: list[EventOut]
    next: int = Field(description="cursor for the next call: the last id, or the given since")
