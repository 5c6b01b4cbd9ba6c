"""Every registry operation through Flask's test client, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest

from mission_control.testing import assert_error

from .conftest import required_fields

PREFIX = "/api/v1"
PATHS = ["workspaces", "projects", "levels", "robots", "modules", "fixed-assets"]
PARENT = {"projects": "workspace_id", "levels": "project_id", "robots": "level_id",
          "modules": "robot_id", "fixed-assets": "level_id"}
CHILD = {"workspaces": "projects", "projects": "levels", "levels": "robots", "robots": "modules"}


@pytest.mark.parametrize("path", PATHS)
def test_create_answers_201_with_location_and_timestamps(client, registry, path):
    item = registry.of(path)
    assert uuid.UUID(item["id"])
    for stamp in ("created_at", "updated_at"):
        assert datetime.fromisoformat(item[stamp]).utcoffset().total_seconds() == 0
    response = client.get(f"{PREFIX}/{path}/{item['id']}")
    assert response.status_code == 200 and response.get_json() == item


def test_location_header_points_at_the_new_item(client):
    response = client.post(f"{PREFIX}/workspaces", json={"name": "Lab"})
    assert response.status_code == 201
    assert response.headers["Location"] == f"{PREFIX}/workspaces/{response.get_json()['id']}"
    assert client.get(response.headers["Location"]).get_json()["name"] == "Lab"


@pytest.mark.parametrize("path", PATHS)
def test_get_of_unknown_or_malformed_id_is_404(client, path):
    for item_id in (uuid.uuid4(), "not-a-uuid", "1"):
        assert_error(client.get(f"{PREFIX}/{path}/{item_id}"), 404, "not_found")
        assert_error(client.patch(f"{PREFIX}/{path}/{item_id}", json={}), 404, "not_found")
        assert_error(client.delete(f"{PREFIX}/{path}/{item_id}"), 404, "not_found")


@pytest.mark.parametrize("path", PATHS)
def test_patch_changes_only_the_given_fields(client, registry, path):
    item = registry.of(path)
    response = client.patch(f"{PREFIX}/{path}/{item['id']}", json={"name": "renamed"})
    assert response.status_code == 200, response.get_data(as_text=True)
    changed = response.get_json()
    assert changed["name"] == "renamed"
    assert changed["updated_at"] > item["updated_at"]
    assert {k: v for k, v in changed.items() if k not in ("name", "updated_at")} == \
        {k: v for k, v in item.items() if k not in ("name", "updated_at")}


def test_patch_without_changes_leaves_updated_at(client, registry):
    item = registry.workspace(name="same")
    response = client.patch(f"{PREFIX}/workspaces/{item['id']}", json={"name": "same"})
    assert response.get_json() == item


def test_patch_clears_nullable_fields_but_refuses_null_for_required_ones(client, registry):
    robot = registry.robot(ip_address="10.0.0.5", port=8080)
    cleared = client.patch(f"{PREFIX}/robots/{robot['id']}", json={"ip_address": None, "port": None})
    assert cleared.status_code == 200
    assert cleared.get_json()["ip_address"] is None and cleared.get_json()["port"] is None
    body = assert_error(client.patch(f"{PREFIX}/robots/{robot['id']}", json={"name": None}), 422)
    assert body["fields"][0]["field"] == "name"


def test_patch_can_move_a_robot_to_another_level_or_unplace_it(client, registry):
    robot = registry.robot()
    other = registry.level()
    moved = client.patch(f"{PREFIX}/robots/{robot['id']}", json={"level_id": other["id"]})
    assert moved.get_json()["level_id"] == other["id"]
    unplaced = client.patch(f"{PREFIX}/robots/{robot['id']}", json={"level_id": None})
    assert unplaced.get_json()["level_id"] is None
    body = assert_error(client.patch(f"{PREFIX}/robots/{robot['id']}",
                                     json={"level_id": str(uuid.uuid4())}), 422)
    assert body["fields"][0]["field"] == "level_id"


@pytest.mark.parametrize("path", PATHS)
def test_delete_answers_204_and_the_item_is_gone(client, registry, path):
    item = registry.of(path)
    response = client.delete(f"{PREFIX}/{path}/{item['id']}")
    assert response.status_code == 204 and response.get_data() == b""
    assert_error(client.get(f"{PREFIX}/{path}/{item['id']}"), 404)


@pytest.mark.parametrize("path", list(CHILD))
def test_delete_of_a_parent_with_children_is_409_naming_them(client, registry, path):
    parent = registry.of(path)
    child_path = CHILD[path]
    child = registry.of(child_path, **{PARENT[child_path]: parent["id"]})
    body = assert_error(client.delete(f"{PREFIX}/{path}/{parent['id']}"), 409, "has_children")
    assert body["children"] == [{"type": child_path.removesuffix("s"), "id": child["id"],
                                 "name": child["name"]}]
    assert body["children_total"] == 1
    assert client.get(f"{PREFIX}/{path}/{parent['id']}").status_code == 200


def test_cascade_deletes_the_whole_subtree_and_nothing_else(client, registry):
    level = registry.level()
    robot = registry.robot(level_id=level["id"])
    module = registry.module(robot_id=robot["id"])
    asset = registry.fixed_asset(level_id=level["id"])
    project_id = level["project_id"]
    workspace_id = client.get(f"{PREFIX}/projects/{project_id}").get_json()["workspace_id"]
    bystander = registry.robot()
    response = client.delete(f"{PREFIX}/workspaces/{workspace_id}?cascade=true")
    assert response.status_code == 204
    for path, item_id in (("workspaces", workspace_id), ("projects", project_id),
                          ("levels", level["id"]), ("robots", robot["id"]),
                          ("modules", module["id"]), ("fixed-assets", asset["id"])):
        assert_error(client.get(f"{PREFIX}/{path}/{item_id}"), 404, "not_found")
    assert client.get(f"{PREFIX}/robots/{bystander['id']}").status_code == 200


def test_cascade_false_is_the_default_and_bad_values_are_422(client, registry):
    project = registry.project()
    workspace_id = project["workspace_id"]
    assert_error(client.delete(f"{PREFIX}/workspaces/{workspace_id}?cascade=false"), 409)
    assert_error(client.delete(f"{PREFIX}/workspaces/{workspace_id}?cascade=maybe"), 422)


@pytest.mark.parametrize("path", PATHS)
def test_names_are_unique_within_their_parent(client, registry, path):
    first = registry.of(path, name="twin")
    parent = {PARENT[path]: first[PARENT[path]]} if path in PARENT else {}
    twin = {**required_fields(path), "name": "twin", **parent}
    body = assert_error(client.post(f"{PREFIX}/{path}", json=twin), 409, "name_taken")
    assert "twin" in body["message"]
    other = registry.of(path)
    assert_error(client.patch(f"{PREFIX}/{path}/{other['id']}", json={"name": "twin", **parent}),
                 409, "name_taken")


def test_the_same_name_is_fine_under_another_parent(registry):
    first = registry.level(name="Ground floor")
    second = registry.level(name="Ground floor")
    assert first["project_id"] != second["project_id"]


def test_unplaced_robots_have_unique_names_too(client, registry):
    registry.robot(name="stray", level_id=None)
    stray = {**required_fields("robots"), "name": "stray"}
    assert_error(client.post(f"{PREFIX}/robots", json=stray), 409, "name_taken")


def test_create_under_an_unknown_parent_is_422_on_that_field(client):
    body = assert_error(client.post(f"{PREFIX}/projects", json={
        "name": "p", "workspace_id": str(uuid.uuid4())}), 422, "validation_error")
    assert body["fields"][0]["field"] == "workspace_id"


def test_list_pages_with_a_total(client, registry):
    workspace = registry.workspace()
    for index in range(5):
        registry.project(workspace_id=workspace["id"], name=f"p{index}")
    page = client.get(f"{PREFIX}/projects?limit=2&offset=1&sort=name").get_json()
    assert page["total"] == 5 and page["limit"] == 2 and page["offset"] == 1
    assert [p["name"] for p in page["items"]] == ["p1", "p2"]
    assert client.get(f"{PREFIX}/projects?offset=10").get_json()["items"] == []


def test_list_filters_by_parent_and_status(client, registry):
    level = registry.level()
    running = registry.robot(level_id=level["id"], status="RUNNING")
    registry.robot(level_id=level["id"])
    registry.robot(status="RUNNING")
    page = client.get(f"{PREFIX}/robots?level_id={level['id']}&status=RUNNING").get_json()
    assert page["total"] == 1 and page["items"][0]["id"] == running["id"]
    module = registry.module(robot_id=running["id"], status="FAILED")
    page = client.get(f"{PREFIX}/modules?robot_id={running['id']}&status=FAILED").get_json()
    assert [m["id"] for m in page["items"]] == [module["id"]]


def test_list_sorts_by_name_and_creation_either_way(client, registry):
    for name in ("b", "c", "a"):
        registry.workspace(name=name)

    def names(sort):
        return [w["name"] for w in client.get(f"{PREFIX}/workspaces?sort={sort}").get_json()["items"]]

    assert names("name") == ["a", "b", "c"] and names("-name") == ["c", "b", "a"]
    assert names("created_at") == ["b", "c", "a"] and names("-created_at") == ["a", "c", "b"]


@pytest.mark.parametrize("query", ["sort=owner", "limit=0", "limit=501", "offset=-1",
                                   "status=BROKEN", "level_id=nope", "colour=red", "limit=x"])
def test_bad_list_parameters_are_422(client, query):
    body = assert_error(client.get(f"{PREFIX}/robots?{query}"), 422, "validation_error")
    assert body["fields"]


def test_fixed_asset_position_is_replaced_as_a_whole(client, registry):
    asset = registry.fixed_asset()
    moved = client.patch(f"{PREFIX}/fixed-assets/{asset['id']}",
                         json={"position": {"x": -3.5, "y": 0, "z": 12}})
    assert moved.get_json()["position"] == {"x": -3.5, "y": 0.0, "z": 12.0}
    assert_error(client.patch(f"{PREFIX}/fixed-assets/{asset['id']}",
                              json={"position": {"x": 1}}), 422)


def test_concurrent_creates_of_one_name_have_one_winner(new_client, registry):
    from mission_control.testing import run_together

    workspace = registry.workspace()

    def create(_index: int) -> int:
        return new_client().post(f"{PREFIX}/projects", json={
            "name": "race", "workspace_id": workspace["id"]}).status_code

    assert sorted(run_together(create)) == [201] + [409] * 7
