"""Job progress through ground (docs/progress.md), on both databases: a command's progress and
phases in GET /api/telecommands/{id} and on its detail page, the silence flag (never a
failure), and each robot's current job in the fleet view. The progress rows are written as
robot-server writes them."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

from sqlalchemy import update

from mission_control import lifecycle
from mission_control.models import Target, TelecommandHistory
from mission_control.progress_models import CommandPhase, CommandProgress
from mission_control.status import Status
from mission_control.timeutil import utcnow

from .test_ground_fleet import HTMX, gen_robot, row_of

STEPS = (Status.READY, Status.TRANSMITTED, Status.ACKNOWLEDGED)


def gen_robot_target(database, name: str = "rover") -> uuid.UUID:
    robot_id = gen_robot(database, name, online=True, status="RUNNING", heartbeat_s_ago=0.5)
    with database.transaction() as session:
        session.add(Target(id=str(robot_id), kind="robot", name=name))
    return robot_id


def executing(client, database, robot_id, command_name: str = "MOVE_TO",
              acknowledged_s_ago: float = 0) -> str:
    """A command to the robot, moved to ACKNOWLEDGED ``acknowledged_s_ago`` seconds ago."""
    args = {"x": 1, "y": 2, "z": 0} if command_name == "MOVE_TO" else {}
    created = client.post("/api/telecommands", json={"command_name": command_name,
                                                     "target": str(robot_id), "args": args})
    assert created.status_code == 201, created.text
    command_id = uuid.UUID(created.json["id"])
    with database.transaction() as session:
        for source, target in zip(STEPS, STEPS[1:]):
            assert lifecycle.transition(session, command_id, source, target, actor="worker-1")
        session.execute(update(TelecommandHistory)
                        .where(TelecommandHistory.telecommand_id == command_id,
                               TelecommandHistory.to_status == Status.ACKNOWLEDGED.value)
                        .values(at=utcnow() - timedelta(seconds=acknowledged_s_ago)))
    return str(command_id)


def reported(database, robot_id, command_id: str, *, percent=None, phase=None, done=None,
             total=None, phases=(), s_ago: float = 0) -> None:
    now = utcnow()
    with database.transaction() as session:
        session.add(CommandProgress(command_id=command_id, robot_id=robot_id, percent=percent,
                                    phase=phase, done=done, total=total,
                                    updated_at=now - timedelta(seconds=s_ago)))
        session.add_all(CommandPhase(command_id=command_id, phase=name,
                                     started_at=now - timedelta(seconds=len(phases) - i))
                        for i, name in enumerate(phases))


def test_progress_and_phases_show_in_the_api(client, database):
    robot_id = gen_robot_target(database)
    command_id = executing(client, database, robot_id)
    assert client.get(f"/api/telecommands/{command_id}").json["progress"] is None
    reported(database, robot_id, command_id, percent=42.5, phase="driving", done=3, total=7,
             phases=("planning", "driving"))
    body = client.get(f"/api/telecommands/{command_id}").json
    progress = body["progress"]
    assert {k: progress[k] for k in ("percent", "phase", "done", "total")} == \
        {"percent": 42.5, "phase": "driving", "done": 3, "total": 7}
    assert [p["phase"] for p in progress["phases"]] == ["planning", "driving"]
    assert progress["phases"][0]["started_at"] < progress["phases"][1]["started_at"]
    assert (body["silent"], body["max_silence_s"]) == (False, 10)
    # The list stays as it was: progress is on one command only.
    assert "progress" not in client.get("/api/telecommands").json["items"][0]


def test_a_command_silent_too_long_is_flagged_not_failed(client, database):
    robot_id = gen_robot_target(database)
    never = executing(client, database, robot_id, "DOCK", acknowledged_s_ago=30)
    stale = executing(client, database, robot_id, acknowledged_s_ago=60)
    reported(database, robot_id, stale, percent=20, phase="driving", phases=("driving",),
             s_ago=11)
    fresh = executing(client, database, robot_id, acknowledged_s_ago=60)
    reported(database, robot_id, fresh, percent=50, phase="driving", s_ago=2)
    recent = executing(client, database, robot_id, "DOCK", acknowledged_s_ago=3)
    ping = executing(client, database, robot_id, "PING", acknowledged_s_ago=600)
    silent = {c: client.get(f"/api/telecommands/{c}").json for c in
              (never, stale, fresh, recent, ping)}
    assert {c: body["silent"] for c, body in silent.items()} == {
        never: True, stale: True, fresh: False, recent: False, ping: False}
    assert all(body["status"] == "ACKNOWLEDGED" for body in silent.values())
    assert silent[ping]["max_silence_s"] is None
    page = client.get(f"/telecommands/{stale}").text
    assert 'data-silent="true"' in page and 'data-role="silent"' in page
    assert "more than 10 s" in page
    assert 'data-silent="true"' not in client.get(f"/telecommands/{fresh}").text
    # A final command is never silent.
    with database.transaction() as session:
        assert lifecycle.transition(session, uuid.UUID(stale), Status.ACKNOWLEDGED,
                                    Status.EXECUTED, actor="worker-1")
    assert client.get(f"/api/telecommands/{stale}").json["silent"] is False


def test_the_detail_page_shows_progress_live(client, database):
    robot_id = gen_robot_target(database)
    command_id = executing(client, database, robot_id)
    page = client.get(f"/telecommands/{command_id}").text
    assert 'id="progress"' not in page and 'hx-trigger="every 1s"' in page
    version = re.search(r"since=([0-9a-f]+)", page).group(1)
    reported(database, robot_id, command_id, percent=35, phase="driving", done=1, total=4,
             phases=("planning", "driving"))
    fragment = client.get(f"/ui/telecommands/{command_id}?since={version}", headers=HTMX)
    assert fragment.status_code == 200
    html = fragment.text
    assert 'data-phase="driving" data-percent="35"' in html
    assert '<progress max="100" value="35.0"' in html and "35 %" in html
    assert "1 of 4 items" in html
    assert re.findall(r'<li data-phase="([^"]+)">', html) == ["planning", "driving"]


def test_the_fleet_shows_each_robots_current_job(client, database):
    busy = gen_robot_target(database, "busy")
    idle = gen_robot_target(database, "idle")
    older = executing(client, database, busy, "DOCK")
    newest = executing(client, database, busy)
    reported(database, busy, newest, percent=64, phase="driving")
    reported(database, busy, older, percent=5, phase="planning")
    fleet = {r["name"]: r for r in client.get("/api/fleet").json["items"]}
    assert fleet["busy"]["job"] == {"command_id": newest, "command_name": "MOVE_TO",
                                    "phase": "driving", "percent": 64.0}
    assert fleet["idle"]["job"] is None
    html = client.get("/fleet").text
    row = row_of(html, busy)
    assert f'data-command-id="{newest}" data-phase="driving"' in row
    assert "MOVE_TO" in row and "64 %" in row and f'href="/telecommands/{newest}"' in row
    assert 'data-role="job"' not in row_of(html, idle)
    # The polled fragment follows the job's progress.
    version = re.search(r'data-version="([^"]+)"', html).group(1)
    with database.transaction() as session:
        session.execute(update(CommandProgress).where(CommandProgress.command_id == newest)
                        .values(percent=90, phase="arriving"))
    changed = client.get(f"/ui/fleet?since={version}", headers=HTMX)
    assert changed.status_code == 200 and 'data-phase="arriving"' in changed.text
