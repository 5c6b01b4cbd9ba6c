"""``registry-seed`` loads the demo workspace once; running it again changes nothing."""

from __future__ import annotations

from sqlalchemy import select

from mission_control.registry_models import (
    FixedAsset, Level, Module, Project, RegistryEvent, Robot, Workspace,
)
from registry_api.seed import main


TABLES = (Workspace, Project, Level, Robot, Module, FixedAsset, RegistryEvent)


def snapshot(database) -> dict[str, list[tuple]]:
    """Every row of the registry tables, all columns, in a stable order."""
    with database.transaction() as session:
        return {model.__tablename__: sorted(
                    tuple(str(getattr(row, c.key)) for c in model.__table__.columns)
                    for row in session.scalars(select(model)))
                for model in TABLES}


def test_seed_loads_the_demo_workspace(database, client, fast_hashing):
    main(["--database-url", database.url])
    rows = snapshot(database)
    counts = {table: len(items) for table, items in rows.items()}
    assert counts == {"registry_workspaces": 1, "registry_projects": 1, "registry_levels": 2,
                      "registry_robots": 3, "registry_modules": 5, "registry_fixed_assets": 3,
                      "registry_events": 15}
    robots = client.get("/api/v1/robots?sort=name").get_json()["items"]
    assert [r["name"] for r in robots] == ["forklift-1", "forklift-2", "picker-1"]
    assert robots[0]["has_password"] and robots[0]["has_network_password"]
    events = client.get("/api/v1/events?limit=1000").get_json()["items"]
    assert len(events) == 15 and {e["actor"] for e in events} == {"registry-seed"}
    verify = client.post(f"/api/v1/robots/{robots[0]['id']}/verify-password",
                         json={"password": "demo-forklift-1"})
    assert verify.status_code == 204


def test_seeding_twice_changes_nothing(database, fast_hashing):
    main(["--database-url", database.url])
    first = snapshot(database)
    main(["--database-url", database.url])
    assert snapshot(database) == first


def test_seed_keeps_what_operators_changed_and_restores_what_they_deleted(database, client,
                                                                        fast_hashing):
    main(["--database-url", database.url])
    robot = client.get("/api/v1/robots?sort=name&limit=1").get_json()["items"][0]
    client.patch(f"/api/v1/robots/{robot['id']}", json={"status": "FAILED"})
    asset = client.get("/api/v1/fixed-assets?sort=name&limit=1").get_json()["items"][0]
    client.delete(f"/api/v1/fixed-assets/{asset['id']}")
    main(["--database-url", database.url])
    assert client.get(f"/api/v1/robots/{robot['id']}").get_json()["status"] == "FAILED"
    names = [a["name"] for a in client.get("/api/v1/fixed-assets").get_json()["items"]]
    assert asset["name"] in names and len(names) == 3
