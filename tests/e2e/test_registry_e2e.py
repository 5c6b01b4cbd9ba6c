"""registry-api as a real gunicorn process on a loopback port, against the test database."""

import requests

from .harness import wait_for


def api(system, method: str, path: str, expected: int, **kwargs):
    """A call as the run's admin (registry writes need admin) or, to read, its viewer."""
    role = "viewer" if method == "GET" else "admin"
    response = requests.request(method, f"{system.registry_url}/api/v1{path}", timeout=10,
                                headers=system.headers(role), **kwargs)
    assert response.status_code == expected, response.text
    return response.json() if response.content else None


def test_the_registry_hierarchy_round_trips_and_deletes_with_cascade(database, system_factory):
    system = system_factory(services=("registry-api",))
    workspace = api(system, "POST", "/workspaces", 201, json={"name": "Site"})
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

    # The feed holds back events while any older transaction on the server is open (a test of
    # another database on the same PostgreSQL cluster, say): they arrive once it ends.
    feed = lambda: api(system, "GET", "/events?limit=1000", 200)["items"]  # noqa: E731
    wait_for(lambda: len(feed()) >= 12, timeout=30, message="the feed's 12 events")
    assert [e["action"] for e in feed()] == ["created"] * 6 + ["deleted"] * 6
    anonymous = requests.get(f"{system.registry_url}/api/v1/workspaces", timeout=10)
    assert anonymous.status_code == 401 and anonymous.headers["WWW-Authenticate"].startswith("Bearer")
    docs = requests.get(f"{system.registry_url}/docs", timeout=10)
    assert docs.status_code == 200 and "swagger-ui" in docs.text
