"""Registry writes under concurrency, without a table-wide lock: the event feed never skips an
event, constraints settle name and parent races, and a cascade records every row it removes."""

from __future__ import annotations

import threading
import uuid

import pytest

from mission_control.db import is_postgresql
from mission_control.registry_models import RegistryEvent
from mission_control.testing import run_together
from registry_api import crud
from registry_api.resources import RESOURCES

from .conftest import PREFIX


def _feed(client, since: int) -> tuple[list[dict], int]:
    body = client.get(f"{PREFIX}/events?since={since}&limit=1000").get_json()
    return body["items"], body["next"]


def test_an_event_committed_late_with_an_earlier_id_is_not_skipped(app, client, registry,
                                                                   database):
    """Writer A inserts its event first (lower id) but commits after writer B. A reader polling
    in between gets B's event, and A's on its next read, after it: its cursor never passes A's."""
    if not is_postgresql(database.engine):
        pytest.skip("SQLite admits one writer at a time: commit order is id order there")
    workspace = registry.workspace()
    seen, cursor = _feed(client, 0)
    assert len(seen) == 1
    projects = RESOURCES["projects"]
    slow = database.sessions()
    slow.begin()
    prepared = crud.prepare(projects, {"name": "slow",
                                       "workspace_id": uuid.UUID(workspace["id"])})
    crud.create(slow.connection(), projects, prepared, actor="tester")
    slow.flush()  # A's event row now exists, with the lower id, uncommitted
    try:
        fast = registry.project(name="fast", workspace_id=workspace["id"])  # B commits first
        early, cursor = _feed(client, cursor)
        assert [e["entity_id"] for e in early] == [fast["id"]]  # A's open transaction holds nothing back
        slow.commit()
    finally:
        slow.close()
    late, _ = _feed(client, cursor)
    assert [e["action"] for e in late] == ["created"] and late[0]["entity_id"] != fast["id"]
    assert late[0]["id"] > early[0]["id"]
    with database.transaction() as session:  # and A's event had the lower id
        ids = {str(e.entity_id): e.id for e in session.query(RegistryEvent)}
    assert ids[late[0]["entity_id"]] < ids[fast["id"]]


def test_a_reader_polling_during_concurrent_writes_sees_every_event_once(new_client, registry,
                                                                      database):
    robot = registry.robot()
    done = threading.Event()
    seen: list[dict] = []
    failures: list[BaseException] = []

    position = [0]

    def read() -> None:
        client = new_client()
        try:
            while True:
                finished = done.is_set()  # read once more after the writers finish
                items, position[0] = _feed(client, position[0])
                seen.extend(items)
                if finished:
                    return
        except BaseException as error:  # surfaced below
            failures.append(error)

    reader = threading.Thread(target=read)
    reader.start()

    def write(index: int) -> list[int]:
        client = new_client()
        statuses = []
        for n in range(12):
            statuses.append(client.post(f"{PREFIX}/modules", json={
                "robot_id": robot["id"], "name": f"m-{index}-{n}", "type": "arm"}).status_code)
            if n % 4 == 3:  # updates too: they lock the row they change
                statuses.append(client.patch(f"{PREFIX}/robots/{robot['id']}",
                                             json={"owner": f"owner-{index}-{n}"}).status_code)
        return statuses

    try:
        statuses = [s for batch in run_together(write, 6) for s in batch]
    finally:
        done.set()
        reader.join(60)
    assert not failures
    assert set(statuses) <= {200, 201}
    with database.transaction() as session:
        stored = session.query(RegistryEvent).count()
    cursors = [e["id"] for e in seen]
    assert cursors == sorted(cursors) and len(set(cursors)) == len(cursors)
    assert len(seen) == stored  # every event, none twice (the robot's chain included)
    assert sum(1 for e in seen if e["entity"] == "module") == 6 * 12


def test_a_cascade_racing_new_children_records_every_row_it_removes(new_client, registry,
                                                                   database):
    """Modules are added to a level's robots while the level is deleted with cascade: every
    module ends either refused (422, its robot is gone) or deleted with a 'deleted' event."""
    level = registry.level()
    robots = [registry.robot(level_id=level["id"]) for _ in range(3)]
    _, cursor = _feed(new_client(), 0)

    def work(index: int) -> list[int]:
        client = new_client()
        if index == 0:
            return [client.delete(f"{PREFIX}/levels/{level['id']}?cascade=true").status_code]
        return [client.post(f"{PREFIX}/modules", json={
            "robot_id": robots[n % 3]["id"], "name": f"m-{index}-{n}", "type": "arm"}).status_code
            for n in range(8)]

    results = run_together(work, 6)
    assert results[0] == [204]
    assert set(s for batch in results[1:] for s in batch) <= {201, 422}
    events, _ = _feed(new_client(), cursor)
    created = {e["entity_id"] for e in events if e["action"] == "created"}
    deleted = {e["entity_id"] for e in events if e["action"] == "deleted"}
    assert created <= deleted  # no module slipped in without a delete event
    assert {r["id"] for r in robots} | {level["id"]} <= deleted
    client = new_client()
    assert client.get(f"{PREFIX}/modules?limit=500").get_json()["total"] == 0 or all(
        m["robot_id"] not in {r["id"] for r in robots}
        for m in client.get(f"{PREFIX}/modules?limit=500").get_json()["items"])


def test_renames_into_one_name_have_one_winner(new_client, registry):
    workspace = registry.workspace()
    projects = [registry.project(workspace_id=workspace["id"]) for _ in range(6)]

    def rename(index: int) -> int:
        return new_client().patch(f"{PREFIX}/projects/{projects[index]['id']}",
                                  json={"name": "taken"}).status_code

    assert sorted(run_together(rename, 6)) == [200] + [409] * 5


def test_a_child_created_under_a_parent_being_deleted_is_refused_or_deleted(new_client,
                                                                           registry):
    for _ in range(3):
        robot = registry.robot()

        def work(index: int) -> int:
            client = new_client()
            if index == 0:
                return client.delete(f"{PREFIX}/robots/{robot['id']}?cascade=true").status_code
            return client.post(f"{PREFIX}/modules", json={
                "robot_id": robot["id"], "name": f"m{index}", "type": "arm"}).status_code

        statuses = run_together(work, 4)
        assert statuses[0] == 204 and set(statuses[1:]) <= {201, 422}
        assert new_client().get(
            f"{PREFIX}/modules?robot_id={robot['id']}").get_json()["total"] == 0
