"""The fleet view (/fleet, its polled fragment) and GET /api/fleet, on both databases; the
operator page's queue filtered by target, and robot and module names in a command's detail.

Robots, modules and sessions are written to the tables as registry-api and robot-server
write them; ``client`` (an operator) and ``app`` come from this folder's conftest.
"""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import event

from ground import telecommands
from ground.schemas import NewTelecommand
from mission_control.models import Target
from mission_control.registry_models import Module, Robot
from mission_control.robot_models import RobotSession
from mission_control.testing import sign_in_client
from mission_control.timeutil import utcnow

HTMX = {"HX-Request": "true"}


def gen_robot(database, name: str, *, online: bool = False, status: str = "IDLE",
              modules: dict[str, str] | None = None, battery: float | None = None,
              heartbeat_s_ago: float | None = None) -> uuid.UUID:
    """A robot with modules (name: status); ``battery`` goes into the telemetry of a new
    session (an older session holds a stale value, which must not show)."""
    robot_id = uuid.uuid4()
    now = utcnow()
    last = now - timedelta(seconds=heartbeat_s_ago) if heartbeat_s_ago is not None else None
    with database.transaction() as session:
        session.add(Robot(id=robot_id, name=name, owner="o", owner_email="o@example.com",
                          online=online, status=status, last_online=last))
        session.flush()
        session.add_all(Module(robot_id=robot_id, name=module, type="arm", status=state,
                               last_online=last)
                        for module, state in (modules or {}).items())
        if battery is not None:
            session.add(RobotSession(robot_id=robot_id, token_hash=uuid.uuid4().hex * 2,
                                     expires_at=now, closed_at=now, telemetry={"battery": 1.0}))
            session.flush()
            session.add(RobotSession(robot_id=robot_id, token_hash=uuid.uuid4().hex * 2,
                                     expires_at=now + timedelta(hours=1),
                                     telemetry={"battery": battery, "cpu": 12.5}))
    return robot_id


def robot_rows(html: str) -> list[tuple[str, str, str]]:
    """(robot id, connection, status) of each fleet row, in page order."""
    return re.findall(r'<tr id="robot-[^"]+"[^>]*data-robot-id="([^"]+)"\s+'
                      r'data-connection="([^"]+)" data-status="([^"]+)"', html)


def row_of(html: str, robot_id) -> str:
    match = re.search(rf'<tr id="robot-{robot_id}".*?</tr>', html, re.S)
    assert match, f"no row for {robot_id}"
    return match.group(0)


# --- the page -------------------------------------------------------------------------------

def test_fleet_page_lists_every_robot_by_name_with_connection_status_battery_and_modules(
        client, database):
    zed = gen_robot(database, "zed", online=False, status="FAILED", heartbeat_s_ago=600)
    alpha = gen_robot(database, "Alpha", online=True, status="RUNNING", battery=87.4,
                      heartbeat_s_ago=0.5, modules={"lidar": "RUNNING", "arm": "FAILED"})
    bravo = gen_robot(database, "bravo")

    response = client.get("/fleet")
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.text
    assert robot_rows(html) == [(str(alpha), "online", "RUNNING"), (str(bravo), "offline", "IDLE"),
                                (str(zed), "offline", "FAILED")]
    row = row_of(html, alpha)
    assert ">Online</span>" in row  # the connection is said in words, not only in colour
    assert 'data-battery="87.4"' in row and "87 %" in row  # the newest session's value
    assert re.findall(r'<li data-module-id="[^"]+" data-status="([^"]+)"><span '
                      r'class="module-name">([^<]+)</span>', row) == [("FAILED", "arm"),
                                                                      ("RUNNING", "lidar")]
    assert f'href="/?target={alpha}"' in row  # its commands
    assert "<time datetime=" in row and "data-age=" in row
    assert ">Offline</span>" in row_of(html, zed)
    never = row_of(html, bravo)
    assert ">never<" in never and 'data-battery=""' in never and ">none<" in never
    assert 'id="fleet-body"' in html and 'hx-trigger="every 1s"' in html
    assert 'data-total="3" data-online="1"' in html
    assert '<th scope="col">Battery</th>' in html and '<th scope="row"' in html


def test_an_empty_fleet_says_how_to_add_a_robot(client):
    html = client.get("/fleet").text
    assert 'id="fleet-empty"' in html
    assert "No robots are registered yet" in html and "<code>robot-client create</code>" in html


def test_names_are_escaped_everywhere_they_show(client, database):
    name = '<script>alert("x")</script>&'
    robot_id = gen_robot(database, name, modules={'<img src=x onerror=alert(1)>': "IDLE"})
    with database.transaction() as session:
        session.add(Target(id=str(robot_id), kind="robot", name=name))
    command = client.post("/api/telecommands", json={"command_name": "PING",
                                                     "target": str(robot_id)})
    assert command.status_code == 201, command.text
    pages = [client.get("/fleet").text, client.get("/ui/fleet", headers=HTMX).text,
             client.get(f"/?target={robot_id}").text,
             client.get(f"/telecommands/{command.json['id']}").text]
    for html in pages:
        assert "<script>alert" not in html and "<img src=x" not in html
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&amp;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in pages[0]


def test_the_fleet_fragment_answers_204_while_nothing_changed(client, database):
    robot_id = gen_robot(database, "r1", online=True, heartbeat_s_ago=1)
    first = client.get("/ui/fleet", headers=HTMX)
    assert first.status_code == 200 and first.text.lstrip().startswith('<tbody id="fleet-body"')
    version = re.search(r'data-version="([^"]+)"', first.text).group(1)
    assert client.get(f"/ui/fleet?since={version}", headers=HTMX).status_code == 204

    with database.transaction() as session:  # robot-server's sweeper: silent too long
        session.get(Robot, robot_id).online = False
    changed = client.get(f"/ui/fleet?since={version}", headers=HTMX)
    assert changed.status_code == 200
    assert robot_rows(changed.text) == [(str(robot_id), "offline", "IDLE")]


def test_a_viewer_may_see_the_fleet_and_an_anonymous_browser_goes_to_login(app, database,
                                                                          anonymous):
    gen_robot(database, "r1")
    viewer = app.test_client()
    sign_in_client(viewer, database, "vic", "viewer")
    assert viewer.get("/fleet").status_code == 200
    assert viewer.get("/api/fleet").status_code == 200

    page = anonymous.get("/fleet")
    assert page.status_code == 303 and page.headers["Location"] == "/login?next=/fleet"
    fragment = anonymous.get("/ui/fleet", headers=HTMX)
    assert fragment.status_code == 401 and fragment.headers["HX-Redirect"].startswith("/login")
    api = anonymous.get("/api/fleet")
    assert api.status_code == 401 and api.json["error"] == "unauthorized"


def test_the_navigation_links_the_command_page_and_the_fleet(client):
    commands, fleet = client.get("/").text, client.get("/fleet").text
    assert re.search(r'<a href="/fleet" id="nav-fleet"\s*>', commands)
    assert re.search(r'<a href="/" id="nav-commands" aria-current="page">', commands)
    assert re.search(r'<a href="/fleet" id="nav-fleet" aria-current="page">', fleet)


# --- the JSON route -------------------------------------------------------------------------

def test_api_fleet_gives_the_same_data_as_json(client, database):
    alpha = gen_robot(database, "alpha", online=True, status="RUNNING", battery=55,
                      heartbeat_s_ago=2, modules={"arm": "RUNNING"})
    gen_robot(database, "beta")

    body = client.get("/api/fleet").json
    assert (body["total"], body["online"]) == (2, 1)
    first, second = body["items"]
    assert first["id"] == str(alpha) and first["name"] == "alpha"
    assert (first["connection"], first["status"], first["battery"]) == ("online", "RUNNING", 55)
    assert first["last_online"].endswith("+00:00")
    (arm,) = first["modules"]
    assert (arm["name"], arm["type"], arm["status"]) == ("arm", "arm", "RUNNING")
    assert uuid.UUID(arm["id"]) and arm["last_online"] == first["last_online"]
    assert second == {"id": second["id"], "name": "beta", "connection": "offline",
                      "status": "IDLE", "last_online": None, "battery": None, "modules": [],
                      "job": None}


def test_api_fleet_of_no_robots_is_an_empty_list(client):
    assert client.get("/api/fleet").json == {"items": [], "total": 0, "online": 0}


@pytest.fixture
def statements(database):
    """The SQL statements run on the database while the test runs that read robots."""
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        if "registry_robots" in statement or "registry_modules" in statement or \
                "robot_sessions" in statement:
            seen.append(statement)

    event.listen(database.engine, "before_cursor_execute", record)
    yield seen
    event.remove(database.engine, "before_cursor_execute", record)


def test_the_number_of_queries_does_not_grow_with_the_fleet(client, database, statements):
    gen_robot(database, "one", battery=10, modules={"a": "IDLE"})
    statements.clear()
    assert client.get("/api/fleet").status_code == 200 and client.get("/fleet").status_code == 200
    few = len(statements)
    for index in range(40):
        gen_robot(database, f"robot-{index:02}", battery=index, modules={"a": "IDLE", "b": "RUNNING"})
    statements.clear()
    body = client.get("/api/fleet").json
    assert client.get("/fleet").status_code == 200
    assert body["total"] == 41 and all(len(r["modules"]) for r in body["items"])
    assert len(statements) == few == 4  # two for the JSON, two for the page


# --- the queue filtered by target; names in the detail --------------------------------------

def add_robot_target(database, robot_id: uuid.UUID, name: str, modules: dict[str, str]):
    """Targets as the registry sync makes them: ids are the registry's UUIDs as strings."""
    with database.transaction() as session:
        session.add(Target(id=str(robot_id), kind="robot", name=name))
        session.flush()
        session.add_all(Target(id=module_id, kind="module", name=module, parent_id=str(robot_id))
                        for module_id, module in modules.items())


def issue(database, target: str | None = None, module_id: str | None = None) -> str:
    with database.transaction() as session:
        command, _ = telecommands.issue(session, NewTelecommand(
            command_name="PING", target=target, module_id=module_id), operator="ann")
        return str(command.id)


def queue_ids(html: str) -> set[str]:
    return set(re.findall(r'<tr id="cmd-[^"]+"[^>]*data-command-id="([^"]+)"', html))


def test_a_robots_commands_link_shows_only_commands_to_it_and_its_modules(client, database):
    robot_id = gen_robot(database, "Rover One")
    arm_id = str(uuid.uuid4())
    add_robot_target(database, robot_id, "Rover One", {arm_id: "Arm"})
    to_robot, to_arm = issue(database, str(robot_id)), issue(database, str(robot_id), arm_id)
    to_spacecraft = issue(database)

    page = client.get(f"/?target={robot_id}")
    assert page.status_code == 200
    assert queue_ids(page.text) == {to_robot, to_arm}
    assert 'id="queue-target"' in page.text and "to Rover One" in page.text
    assert f'<option value="{robot_id}" selected>' in page.text  # the send form starts there
    assert 'id="all-targets"' in page.text
    # Changing the status keeps the target: the select's request includes the filter's input.
    assert f'<input type="hidden" id="target-filter" name="target" value="{robot_id}">' in page.text
    assert 'hx-include="#target-filter"' in page.text
    # The polled fragment keeps the filter: its next poll asks for the same target.
    assert f"target={robot_id}" in re.search(r'<tbody id="queue-body"\s+hx-get="([^"]+)"',
                                             page.text).group(1)
    fragment = client.get(f"/ui/queue?target={robot_id}", headers=HTMX)
    assert queue_ids(fragment.text) == {to_robot, to_arm}
    assert queue_ids(client.get("/").text) == {to_robot, to_arm, to_spacecraft}
    api = client.get(f"/api/telecommands?target={robot_id}").json
    assert {c["id"] for c in api["items"]} == {to_robot, to_arm} and api["total"] == 2


@pytest.mark.parametrize("raw", ["", "x" * 65, "a\x00b", "%20"])
def test_a_target_filter_that_cannot_be_one_is_ignored(client, database, raw):
    command_id = issue(database)
    page = client.get("/", query_string={"target": raw.replace("%20", " ")})
    assert page.status_code == 200 and command_id in queue_ids(page.text)
    assert 'id="queue-target"' not in page.text


def test_a_target_without_commands_says_so(client, database):
    robot_id = gen_robot(database, "Idle Ida")
    add_robot_target(database, robot_id, "Idle Ida", {})
    issue(database)
    html = client.get(f"/?target={robot_id}").text
    assert queue_ids(html) == set() and "No commands to Idle Ida yet." in html


def test_a_send_from_a_filtered_page_adds_its_row_only_when_it_matches(client, database):
    robot_id = gen_robot(database, "Rover")
    add_robot_target(database, robot_id, "Rover", {})
    shown = {**HTMX, "HX-Current-URL": f"http://localhost/?target={robot_id}"}
    to_robot = client.post("/ui/telecommands", headers=shown,
                           data={"target": str(robot_id), "command_name": "PING"})
    assert to_robot.status_code == 201 and 'hx-swap-oob="afterbegin:#queue-body"' in to_robot.text
    elsewhere = client.post("/ui/telecommands", headers=shown,
                            data={"target": "spacecraft", "command_name": "PING"})
    assert elsewhere.status_code == 201 and "hx-swap-oob=\"afterbegin" not in elsewhere.text


def test_the_detail_of_a_module_command_names_the_robot_and_the_module(client, database):
    robot_id = gen_robot(database, "Rover One")
    arm_id = str(uuid.uuid4())
    add_robot_target(database, robot_id, "Rover One", {arm_id: "Gripper arm"})
    command_id = issue(database, str(robot_id), arm_id)

    html = client.get(f"/telecommands/{command_id}").text
    link = re.search(r'<a href="([^"]+)" id="detail-target"[^>]*>([^<]+)</a>', html)
    assert link.group(1) == f"/?target={robot_id}"
    assert link.group(2) == "Rover One › Gripper arm"
    assert "Rover One › Gripper arm" in client.get("/").text  # the queue row names them too
