"""registry-api as a real gunicorn process on a loopback port, against the test database, or
a running stack's: names are new for each run and only the run's own events are compared."""

import uuid

import requests

from .harness import wait_for


def api(system, method: str, path: str, expected: int, **kwargs):
    """A call as the run's admin (registry writes need admin) or, to read, its viewer."""
    role = "viewer" if method == "GET" else "admin"
    response = requests.request(method, f"{system.registry_url}/api/v1{path}", timeout=10,
                                headers=system.headers(role), **kwargs)
    assert response.status_code == expected, response.text
    return response.json() if response.content else None


def events_of(system, ids: set[str], at_least: int) -> list[dict] | None:
    """The change events of the given entities, oldest first, once there are ``at_least``
    (read page by page from the start: a stack's log holds other runs' events too)."""
    found, since = [], 0
    while True:
        page = api(system, "GET", f"/events?since={since}&limit=1000", 200)
        found += [e for e in page["items"] if e["entity_id"] in ids]
        if not page["items"]:
            return found if len(found) >= at_least else None
        since = page["next"]


def test_the_registry_hierarchy_round_trips_and_deletes_with_cascade(system_factory):
    system = system_factory(services=("registry-api",))
    site = f"Site {uuid.uuid4().hex[:12]}"  # workspace names are unique; a stack keeps them
    workspace = api(system, "POST", "/workspaces", 201, json={"name": site})
    project = api(system, "POST", "/projects", 201,
                  json={"name": "Build", "workspace_id": workspace["id"]})
    level = api(system, "POST", "/levels", 201,
                json={"name": "L1", "project_id": project["id"], "elevation": 3.5})
    robot = api(system, "POST", "/robots", 201, json={
        "name": "r1", "level_id": level["id"], "owner": "Ada", "owner_email": "ada@example.com",
        "password": "s3cret", "network_password": "wifi-pass", "ip_address": "10.0.0.7",
        "port": 7000})
    module = api(system, "POST", "/modules", 201,
                 json={"name": "arm", "type": "actuator", "robot_id": robot["id"]})
    asset = api(system, "POST", "/fixed-assets", 201, json={
        "name": "dock", "asset_type": "charger", "level_id": level["id"],
        "position": {"x": 1, "y": 2, "z": 3.5}})

    assert api(system, "GET", f"/robots/{robot['id']}", 200) == robot
    assert "s3cret" not in str(robot) and "wifi-pass" not in str(robot)
    api(system, "POST", f"/robots/{robot['id']}/verify-password", 204,
        json={"password": "s3cret"})
    api(system, "POST", f"/robots/{robot['id']}/verify-password", 401,
        json={"password": "wrong"})
    assert [m["id"] for m in api(system, "GET", f"/modules?robot_id={robot['id']}", 200)["items"]] \
        == [module["id"]]
    assert api(system, "GET", f"/fixed-assets?level_id={level['id']}", 200)["items"] == [asset]

    refused = api(system, "DELETE", f"/workspaces/{workspace['id']}", 409)
    assert refused["children"] == [{"type": "project", "id": project["id"], "name": "Build"}]
    api(system, "DELETE", f"/workspaces/{workspace['id']}?cascade=true", 204)
    for path, item in (("workspaces", workspace), ("projects", project), ("levels", level),
                       ("robots", robot), ("modules", module), ("fixed-assets", asset)):
        api(system, "GET", f"/{path}/{item['id']}", 404)

    ids = {item["id"] for item in (workspace, project, level, robot, module, asset)}
    # Stack mode may share the database with other writers: wait for all twelve of ours.
    events = wait_for(lambda: events_of(system, ids, at_least=12), timeout=30, interval=0.2,
                      message="the run's twelve events")
    assert [e["action"] for e in events] == ["created"] * 6 + ["deleted"] * 6
    anonymous = requests.get(f"{system.registry_url}/api/v1/workspaces", timeout=10)
    assert anonymous.status_code == 401 and anonymous.headers["WWW-Authenticate"].startswith("Bearer")
    docs = requests.get(f"{system.registry_url}/docs", timeout=10)
    assert docs.status_code == 200 and "swagger-ui" in docs.text
