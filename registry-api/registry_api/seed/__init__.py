"""``registry-seed``: load a demo workspace into the registry from a JSON file, idempotently.

Each item is looked up by name within its parent; only missing ones are created (through the
same validation and CRUD functions as the API, so they get their events, recorded as
``registry-seed``'s, and hashed secrets). Items that exist are left as they are, so a second
run, or a run after operators edited the demo data, changes nothing. The whole load is one
transaction (all or nothing); unlike the API it hashes the demo secrets inside it, which a
one-off command can afford.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mission_control.db import Database
from mission_control.logs import configure_logging
from mission_control.db import database_address
from mission_control.settings import get_settings

from .. import crud
from ..resources import RESOURCES, Resource

DEMO = Path(__file__).with_name("demo.json")
ACTOR = "registry-seed"  # who the change events of a seed name

# The JSON key holding each resource's children, and the resource they are.
NESTED = {"workspaces": ("projects",), "projects": ("levels",),
          "levels": ("robots", "fixed_assets"), "robots": ("modules",)}
KEYS = {"fixed_assets": "fixed-assets"}


def load(database: Database, data: dict[str, Any]) -> dict[str, int]:
    """Create what ``data`` describes and is missing, in one transaction; counts per resource."""
    created: dict[str, int] = {}
    with database.transaction() as session:
        _load_all(session, "workspaces", data.get("workspaces", []), None, created)
    return created


def _load_all(session: Session, key: str, items: list[dict[str, Any]], parent_id: Any,
              created: dict[str, int]) -> None:
    resource = RESOURCES[KEYS.get(key, key)]
    for item in items:
        fields = {k: v for k, v in item.items() if k not in NESTED.get(key, ())}
        if resource.parent_field:
            fields[resource.parent_field] = parent_id
        row_id = _existing(session, resource, fields["name"], parent_id)
        if row_id is None:
            body = resource.create.model_validate(fields)
            prepared = crud.prepare(resource, body.model_dump())
            row_id = crud.create(session.connection(), resource, prepared, actor=ACTOR).id
            created[resource.path] = created.get(resource.path, 0) + 1
        for child_key in NESTED.get(key, ()):
            _load_all(session, child_key, item.get(child_key, []), row_id, created)


def _existing(session: Session, resource: Resource, name: str, parent_id: Any) -> Any:
    model = resource.model
    query = select(model.id).where(model.name == name)
    if resource.parent_field:
        query = query.where(getattr(model, resource.parent_field) == parent_id)
    return session.scalar(query)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Load demo data into the registry (idempotent).")
    parser.add_argument("file", nargs="?", type=Path, default=DEMO)
    parser.add_argument("--database-url", default=None, help="defaults to DATABASE_URL")
    options = parser.parse_args(argv)
    settings = get_settings()
    configure_logging("registry-seed", settings.log_level)
    url = options.database_url or settings.database_url
    database = Database(url)
    try:
        created = load(database, json.loads(options.file.read_text()))
    finally:
        database.dispose()
    # Printed, like `make run`'s banner: which database was seeded is what a user needs to see.
    print(f"seeded {options.file.name} into {database_address(url)}: "
          + (", ".join(f"{n} {p}" for p, n in created.items()) or "nothing new"))
