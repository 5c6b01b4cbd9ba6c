"""Fleet-wide commands through the API (/api/batches): validation, selectors, the roll-up."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from mission_control import lifecycle
from mission_control.batch_models import Batch
from mission_control.models import Target, Telecommand, TelecommandHistory
from mission_control.registry_models import Level, Module, Project, Robot, Workspace
from mission_control.status import Status
from mission_control.testing import assert_error, sign_in_client
from mission_control.timeutil import utcnow


def gen_place(database) -> dict[str, uuid.UUID]:
    """A workspace with a project holding one level; their ids."""
    ids = {"workspace_id": uuid.uuid4(), "project_id": uuid.uuid4(), "level_id": uuid.uuid4()}
    with database.transaction() as session:
        session.add(Workspace(id=ids["workspace_id"], name=f"w-{ids['workspace_id']}"))
        session.flush()
        session.add(Project(id=ids["project_id"], workspace_id=ids["workspace_id"], name="p"))
        session.flush()
        session.add(Level(id=ids["level_id"], project_id=ids["project_id"], name="l"))
    return ids


def gen_robot(database, name: str, *, level_id=None, online: bool = False,
              status: str = "IDLE", modules: tuple[str, ...] = ()) -> tuple[str, dict[str, str]]:
    """A registry robot and its targets, as registry-api writes them: its id and its modules'."""
    robot_id = uuid.uuid4()
    module_ids = {name: str(uuid.uuid4()) for name in modules}
    with database.transaction() as session:
        session.add(Robot(id=robot_id, level_id=level_id, name=name, owner="o",
                          owner_email="o@example.com", online=online, status=status))
        session.add(Target(id=str(robot_id), kind="robot", name=name))
        session.flush()
        for module, module_id in module_ids.items():
            session.add(Module(id=uuid.UUID(module_id), robot_id=robot_id, name=module,
                               type="arm"))
            session.add(Target(id=module_id, kind="module", name=module,
                               parent_id=str(robot_id)))
    return str(robot_id), module_ids


def rows(database) -> tuple[int, int, int]:
    """How many batches, telecommands and history rows exist."""
    with database.transaction() as session:
        return (session.scalar(select(func.count()).select_from(Batch)),
                session.scalar(select(func.count()).select_from(Telecommand)),
                session.scalar(select(func.count()).select_from(TelecommandHistory)))


def refused(client, database, body, *offending: str) -> dict:
    answer = assert_error(client.post("/api/batches", json=body), 422)
    if answer["error"] == "batch_refused":
        assert answer["fields"][0]["field"] == ("targets" if "targets" in body else "selector")
    if offending:
        assert sorted(o["id"] for o in answer["offending"]) == sorted(offending)
    assert rows(database) == (0, 0, 0)
    return answer


def test_a_list_of_robots_and_modules_gets_one_ready_command_each(client, database):
    a, _ = gen_robot(database, "a")
    b, modules = gen_robot(database, "b", modules=("arm",))
    answer = client.post("/api/batches", json={"command_name": "STOP",
                                               "targets": [a, modules["arm"]]})
    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json()["count"] == 2
    batch_id = answer.get_json()["id"]
    assert answer.headers["Location"] == f"/api/batches/{batch_id}"
    with database.transaction() as session:
        commands = session.scalars(select(Telecommand)
                                   .where(Telecommand.batch_id == uuid.UUID(batch_id))).all()
        assert {(c.target_id, c.module_id, c.status, c.operator) for c in commands} == {
            (a, None, "READY", "operator"), (b, modules["arm"], "READY", "operator")}
        history = session.scalars(select(TelecommandHistory)).all()
        assert sorted((h.from_status, h.to_status) for h in history) == [(None, "READY")] * 2
    one = client.get(f"/api/telecommands/{commands[0].id}").get_json()
    assert one["status"] == "READY"


@pytest.mark.parametrize("problem", ["unknown", "removed", "spacecraft", "duplicate"])
def test_a_bad_target_refuses_the_whole_batch_naming_it(client, database, problem):
    good, _ = gen_robot(database, "good")
    bad, _ = gen_robot(database, "bad")
    targets = [good, bad]
    if problem == "unknown":
        targets[1] = bad = str(uuid.uuid4())
    elif problem == "removed":
        with database.transaction() as session:
            session.get(Target, bad).removed_at = utcnow()
    elif problem == "spacecraft":
        targets[1] = bad = "spacecraft"
    else:
        targets.append(bad)
    refused(client, database, {"command_name": "PING", "targets": targets}, bad)


def test_a_command_one_kind_does_not_know_refuses_the_batch_naming_those_targets(
        client, database):
    robot, modules = gen_robot(database, "r", modules=("arm", "gripper"))
    answer = refused(client, database, {"command_name": "DOCK",
                                        "targets": [robot, *modules.values()]},
                     *modules.values())
    assert "unknown command 'DOCK' for a module" in answer["message"]


def test_bad_args_and_a_missing_confirmation_are_refused(client, database):
    robot, _ = gen_robot(database, "r")
    refused(client, database, {"command_name": "SET_SPEED", "args": {"speed": "fast"},
                               "targets": [robot]}, robot)
    answer = refused(client, database, {"command_name": "REBOOT", "targets": [robot]}, robot)
    assert "hazardous" in answer["message"]
    created = client.post("/api/batches", json={"command_name": "REBOOT", "confirm": True,
                                                "targets": [robot]})
    assert created.status_code == 201


def test_more_targets_than_the_limit_are_refused(make_app, database):
    client = make_app(batch_max_targets=2).test_client()
    sign_in_client(client, database, "operator", "operator")
    ids = [gen_robot(database, f"r{i}")[0] for i in range(3)]
    answer = refused(client, database, {"command_name": "PING", "targets": ids}, ids[2])
    assert "at most 2" in answer["message"]


@pytest.mark.parametrize("body", [
    {"command_name": "PING"},
    {"command_name": "PING", "targets": []},
    {"command_name": "PING", "targets": ["x"], "selector": {}},
    {"command_name": "PING", "selector": {"status": "ASLEEP"}},
    {"command_name": "PING", "selector": {"connection": "maybe"}},
    {"command_name": "PING", "selector": {"level_id": "not-a-uuid"}},
    {"command_name": "PING", "selector": {"colour": "red"}},
    {"command_name": "PING", "targets": ["a\u0000b"]},
    {"command_name": "PING", "targets": "everyone"},
])
def test_malformed_bodies_are_refused_with_422(client, database, body):
    refused(client, database, body)


def test_an_empty_selection_is_refused(client, database):
    gen_robot(database, "idle", status="IDLE")
    answer = refused(client, database, {"command_name": "PING",
                                        "selector": {"status": "FAILED"}})
    assert "matches no robot" in answer["message"]


def test_selectors_pick_robots_by_place_status_and_connection(client, database):
    here, there = gen_place(database), gen_place(database)
    on_idle, _ = gen_robot(database, "a", level_id=here["level_id"], online=True)
    off_running, _ = gen_robot(database, "b", level_id=here["level_id"], status="RUNNING")
    elsewhere, _ = gen_robot(database, "c", level_id=there["level_id"], online=True)
    unplaced, _ = gen_robot(database, "d", status="RUNNING")

    def selected(selector: dict) -> set[str]:
        answer = client.post("/api/batches", json={"command_name": "PING",
                                                   "selector": selector})
        assert answer.status_code == 201, answer.get_json()
        with database.transaction() as session:
            return set(session.scalars(select(Telecommand.target_id).where(
                Telecommand.batch_id == uuid.UUID(answer.get_json()["id"]))))

    for place in ("level_id", "project_id", "workspace_id"):
        assert selected({place: str(here[place])}) == {on_idle, off_running}
    assert selected({"level_id": str(here["level_id"]),
                     "workspace_id": str(here["workspace_id"])}) == {on_idle, off_running}
    refused_place = client.post("/api/batches", json={
        "command_name": "PING", "selector": {"level_id": str(here["level_id"]),
                                             "project_id": str(there["project_id"])}})
    assert assert_error(refused_place, 422, "batch_refused")["fields"][0]["field"] == "selector"
    assert selected({}) == {on_idle, off_running, elsewhere, unplaced}
    assert selected({"status": "RUNNING"}) == {off_running, unplaced}
    assert selected({"connection": "online"}) == {on_idle, elsewhere}
    assert selected({"level_id": str(here["level_id"]), "connection": "offline"}) == {
        off_running}


def test_a_selector_with_a_module_sends_to_that_module_of_each_robot(client, database):
    a, a_modules = gen_robot(database, "a", modules=("arm", "lidar"))
    b, b_modules = gen_robot(database, "b", modules=("arm",))
    answer = client.post("/api/batches", json={"command_name": "START",
                                               "selector": {"module": "arm"}})
    assert answer.status_code == 201, answer.get_json()
    with database.transaction() as session:
        sent = set(session.execute(select(Telecommand.target_id, Telecommand.module_id)))
    assert sent == {(a, a_modules["arm"]), (b, b_modules["arm"])}
    body = client.get(f"/api/batches/{answer.get_json()['id']}").get_json()
    assert body["module"] == "arm" and body["selector"] == {"module": "arm"}


def test_a_selector_module_missing_on_a_robot_refuses_the_batch(client, database):
    gen_robot(database, "a", modules=("arm",))
    bare, _ = gen_robot(database, "b")
    refused(client, database, {"command_name": "START", "selector": {"module": "arm"}}, bare)


def _finish(database, command_id, to: Status, reason: str | None = None) -> None:
    path = {Status.EXECUTED: [Status.TRANSMITTED, Status.ACKNOWLEDGED, Status.EXECUTED],
            Status.FAILED: [Status.TRANSMITTED, Status.FAILED],
            Status.CANCELLED: [Status.CANCELLED],
            Status.TRANSMITTED: [Status.TRANSMITTED]}[to]
    with database.transaction() as session:
        current = Status.READY
        for step in path:
            assert lifecycle.transition(session, command_id, current, step, actor="test",
                                        reason=reason if step is Status.FAILED else None)
            current = step


def test_the_roll_up_counts_by_status_lists_failures_and_says_when_done(client, database):
    ids = [gen_robot(database, f"r{i}")[0] for i in range(4)]
    batch_id = client.post("/api/batches", json={"command_name": "PING",
                                                 "targets": ids}).get_json()["id"]
    with database.transaction() as session:
        commands = dict(session.execute(select(Telecommand.target_id, Telecommand.id)).all())
    _finish(database, commands[ids[0]], Status.EXECUTED)
    _finish(database, commands[ids[1]], Status.FAILED, "robot-server: expired")
    _finish(database, commands[ids[2]], Status.TRANSMITTED)
    body = client.get(f"/api/batches/{batch_id}").get_json()
    assert body["counts"] == {"AWAITING_APPROVAL": 0, "READY": 1, "TRANSMITTED": 1,
                              "ACKNOWLEDGED": 0, "EXECUTED": 1, "FAILED": 1, "CANCELLED": 0}
    assert body["failed"] == [{"telecommand_id": str(commands[ids[1]]), "target": ids[1],
                               "reason": "robot-server: expired"}]
    assert body["done"] is False and body["count"] == 4
    assert body["created_by"] == "operator" and body["command_name"] == "PING"
    _finish(database, commands[ids[3]], Status.CANCELLED)
    with database.transaction() as session:
        lifecycle.transition(session, commands[ids[2]], Status.TRANSMITTED, Status.FAILED,
                             actor="test", reason="no answer")
    body = client.get(f"/api/batches/{batch_id}").get_json()
    assert body["done"] is True
    assert body["counts"]["FAILED"] == 2 and len(body["failed"]) == 2


def test_the_list_is_newest_first_with_each_roll_up(client, database):
    robot, _ = gen_robot(database, "r")
    first = client.post("/api/batches", json={"command_name": "PING",
                                              "targets": [robot]}).get_json()["id"]
    second = client.post("/api/batches", json={"command_name": "STOP",
                                               "targets": [robot]}).get_json()["id"]
    page = client.get("/api/batches?limit=1").get_json()
    assert page["total"] == 2 and [b["id"] for b in page["items"]] == [second]
    assert page["items"][0]["counts"]["READY"] == 1 and "failed" not in page["items"][0]
    rest = client.get("/api/batches?limit=1&offset=1").get_json()
    assert [b["id"] for b in rest["items"]] == [first]
    assert_error(client.get("/api/batches?limit=0"), 422)


@pytest.mark.parametrize("raw", ["nope", "5d0f3c1e-2b7a-4c11-9a0e-7f3b2c9d4e61", "1" * 300])
def test_an_unknown_or_malformed_batch_id_is_404(client, raw):
    assert_error(client.get(f"/api/batches/{raw}"), 404, "not_found")


def test_a_viewer_may_read_but_not_create(app, database):
    robot, _ = gen_robot(database, "r")
    viewer = app.test_client()
    sign_in_client(viewer, database, "vic", "viewer")
    assert_error(viewer.post("/api/batches", json={"command_name": "PING",
                                                   "targets": [robot]}), 403)
    assert viewer.get("/api/batches").status_code == 200
    assert rows(database) == (0, 0, 0)


def test_a_list_of_thousands_of_ids_fits_and_a_larger_body_is_413(make_app, database):
    """The body limit of POST /api/batches grows with BATCH_MAX_TARGETS: 2,000 UUIDs (about
    80 KB, over the 64 KiB of other routes) are read and judged; a body beyond room for
    BATCH_MAX_TARGETS ids is 413, with nothing written."""
    client = make_app(batch_max_targets=2000).test_client()
    sign_in_client(client, database, "operator", "operator")
    known = [gen_robot(database, f"r{i}")[0] for i in range(3)]
    unknown = [str(uuid.uuid4()) for _ in range(1997)]
    body = {"command_name": "PING", "targets": known + unknown}
    assert len(str(body).encode()) > 64 * 1024
    answer = refused(client, database, body, *unknown)
    assert answer["error"] == "batch_refused"
    big = {"command_name": "PING", "targets": known + [str(uuid.uuid4()) for _ in range(6000)]}
    too_big = client.post("/api/batches", json=big)
    assert_error(too_big, 413)
    assert rows(database) == (0, 0, 0)


def test_cancel_cancels_the_commands_not_transmitted_and_leaves_the_others(client, database):
    ids = [gen_robot(database, f"r{i}")[0] for i in range(3)]
    batch_id = client.post("/api/batches", json={"command_name": "PING",
                                                 "targets": ids}).get_json()["id"]
    with database.transaction() as session:
        sent = session.scalars(select(Telecommand.id).where(
            Telecommand.target_id == ids[0])).one()
        assert lifecycle.transition(session, sent, Status.READY, Status.TRANSMITTED,
                                    actor="test-worker")
    answer = client.post(f"/api/batches/{batch_id}/cancel")
    assert answer.status_code == 200
    assert answer.get_json() == {"id": batch_id, "cancelled": 2}
    roll_up = client.get(f"/api/batches/{batch_id}").get_json()
    assert roll_up["counts"]["CANCELLED"] == 2 and roll_up["counts"]["TRANSMITTED"] == 1
    with database.transaction() as session:
        history = session.execute(select(TelecommandHistory.actor, TelecommandHistory.reason)
                                  .where(TelecommandHistory.to_status == "CANCELLED")).all()
    assert sorted(history) == [("operator", "batch cancelled by operator")] * 2
    again = client.post(f"/api/batches/{batch_id}/cancel")  # nothing left: 0, not an error
    assert again.status_code == 200 and again.get_json()["cancelled"] == 0


def test_cancel_needs_an_operator_and_a_known_batch(app, client, database):
    robot, _ = gen_robot(database, "r")
    batch_id = client.post("/api/batches", json={"command_name": "PING",
                                                 "targets": [robot]}).get_json()["id"]
    viewer = app.test_client()
    sign_in_client(viewer, database, "vic", "viewer")
    assert_error(viewer.post(f"/api/batches/{batch_id}/cancel"), 403)
    for raw in (str(uuid.uuid4()), "not-a-uuid", "%E2%80%AE"):
        assert_error(client.post(f"/api/batches/{raw}/cancel"), 404, "not_found")
    assert client.get(f"/api/batches/{batch_id}").get_json()["counts"]["READY"] == 1
