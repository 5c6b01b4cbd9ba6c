"""The console's frame and its Map page on both databases: one navigation bar on every page
(the current page marked, Users for admins only, a skip link, the alert badge's spot), and
the plan of a level with its fixed assets and robots at their latest positions, live.

Levels, assets, robots and sessions are written to the tables as registry-api and
robot-server write them; ``client`` (an operator) and ``app`` come from this folder's conftest.
"""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest

from ground import map_view
from mission_control.registry_models import FixedAsset, Level, Project, Robot, Workspace
from mission_control.robot_models import RobotSession
from mission_control.testing import sign_in_client
from mission_control.timeutil import utcnow

HTMX = {"HX-Request": "true"}
PAGES = {"commands": "/", "stacks": "/stacks", "batches": "/batches", "fleet": "/fleet",
         "telemetry": "/telemetry", "alerts": "/alerts", "map": "/map", "reports": "/reports",
         "users": "/users"}


def gen_level(database, name: str = "Ground floor", project: str = "Plant",
              assets: dict[str, tuple[float, float]] | None = None) -> uuid.UUID:
    """A level (in a new workspace and project) with fixed assets named at (x, y)."""
    with database.transaction() as session:
        workspace = Workspace(name=f"ws-{uuid.uuid4().hex[:8]}")
        session.add(workspace)
        session.flush()
        proj = Project(workspace_id=workspace.id, name=project)
        session.add(proj)
        session.flush()
        level = Level(project_id=proj.id, name=name)
        session.add(level)
        session.flush()
        session.add_all(FixedAsset(level_id=level.id, name=asset, asset_type="charger", x=x, y=y)
                        for asset, (x, y) in (assets or {}).items())
        return level.id


def gen_robot(database, name: str, level_id: uuid.UUID | None, *, online: bool = True,
              status: str = "IDLE", position: dict | None = None) -> uuid.UUID:
    robot_id = uuid.uuid4()
    now = utcnow()
    with database.transaction() as session:
        session.add(Robot(id=robot_id, name=name, owner="o", owner_email="o@example.com",
                          level_id=level_id, online=online, status=status))
        session.flush()
        telemetry = {"battery": 50.0, **({"position": position} if position is not None else {})}
        session.add(RobotSession(robot_id=robot_id, token_hash=uuid.uuid4().hex * 2,
                                 expires_at=now + timedelta(hours=1), telemetry=telemetry))
    return robot_id


def move(database, robot_id: uuid.UUID, x: float, y: float) -> None:
    """What robot-server does with a heartbeat's telemetry: the newest session keeps it."""
    with database.transaction() as session:
        newest = session.query(RobotSession).filter_by(robot_id=robot_id) \
            .order_by(RobotSession.id.desc()).first()
        newest.telemetry = {"position": {"x": x, "y": y, "z": 0.0}}


def marks(html: str) -> dict[str, dict[str, str]]:
    """The robots drawn on the plan: id -> their data- attributes."""
    found = {}
    for tag in re.findall(r'<a href="[^"]*" class="robot-mark[^>]*>', html):
        attrs = dict(re.findall(r'data-([a-z-]+)="([^"]*)"', tag))
        attrs["href"] = re.search(r'href="([^"]*)"', tag).group(1)
        found[attrs["robot-id"]] = attrs
    return found


# --- the navigation bar --------------------------------------------------------------------

@pytest.mark.parametrize("key,path", PAGES.items())
def test_every_page_has_the_nav_with_its_own_entry_marked_current(app, database, key, path):
    client = app.test_client()
    sign_in_client(client, database, "chief", "admin")

    html = client.get(path).text

    entries = re.findall(r'<a href="([^"]+)" id="nav-([a-z]+)" ?(aria-current="page")?>', html)
    assert [(href, k) for href, k, _ in entries] == [(p, k) for k, p in PAGES.items()]
    assert [k for _, k, current in entries if current] == [key]
    assert '<a class="skip-link" href="#main">' in html and '<main id="main"' in html
    assert html.count('id="alert-badge"') == 1  # the open-alert count, once on every page
    assert 'href="/alerts"' in html and "No open alerts" in html


@pytest.mark.parametrize("role", ["viewer", "operator"])
def test_users_is_not_in_the_nav_below_admin(app, database, role):
    client = app.test_client()
    sign_in_client(client, database, f"n-{role}", role)

    html = client.get("/map").text

    assert re.findall(r'id="nav-([a-z]+)"', html) == ["commands", "stacks", "batches", "fleet",
                                                           "telemetry", "alerts", "map", "reports"]


@pytest.mark.parametrize("path", ["/map", "/ui/map", "/reports", "/reports/daily",
                                  "/reports/telecommands.csv", "/users"])
def test_the_new_pages_need_a_sign_in(anonymous, path):
    response = anonymous.get(path)
    assert response.status_code == 303 and "/login?next=" in response.headers["Location"]


# --- the map -------------------------------------------------------------------------------

def test_the_map_draws_assets_and_robots_coloured_by_connection_and_status(client, database):
    level = gen_level(database, assets={"Charger": (0.0, 0.0), "Door": (40.0, 20.0)})
    rover = gen_robot(database, "Rover", level, status="RUNNING", position={"x": 10, "y": 5, "z": 0})
    lost = gen_robot(database, "Lost", level, online=False, status="FAILED",
                     position={"x": -5.5, "y": 12, "z": 1})
    silent = gen_robot(database, "Silent", level)  # no position reported yet
    drifter = gen_robot(database, "Drifter", None, position={"x": 1, "y": 1, "z": 0})

    response = client.get(f"/map?level={level}")

    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.text
    drawn = marks(html)
    assert set(drawn) == {str(rover), str(lost)}
    assert (drawn[str(rover)]["connection"], drawn[str(rover)]["status"]) == ("online", "RUNNING")
    assert (drawn[str(lost)]["connection"], drawn[str(lost)]["status"]) == ("offline", "FAILED")
    assert (drawn[str(lost)]["x"], drawn[str(lost)]["y"]) == ("-5.5", "12")
    assert drawn[str(rover)]["href"] == f"/?target={rover}"
    assert "connection-offline status-failed" in html
    assert html.count('class="asset-mark"') == 2 and ">Charger</text>" in html
    unplaced = re.search(r'<ul class="robot-list" id="unplaced">.*?</ul>', html, re.S).group(0)
    elsewhere = re.search(r'<ul class="robot-list" id="elsewhere">.*?</ul>', html, re.S).group(0)
    assert str(silent) in unplaced and str(drifter) not in unplaced
    assert str(drifter) in elsewhere


def test_every_mark_fits_inside_the_canvas_whatever_the_scale(client, database):
    level = gen_level(database, assets={"far": (5000.0, -3000.0)})
    robot = gen_robot(database, "Near", level, position={"x": -2000, "y": 4000, "z": 0})

    html = client.get(f"/map?level={level}").text

    x, y = float(marks(html)[str(robot)]["cx"]), float(marks(html)[str(robot)]["cy"])
    assert 0 <= x <= map_view.WIDTH and 0 <= y <= map_view.HEIGHT
    for ax, ay in re.findall(r'<rect x="([-\d.]+)" y="([-\d.]+)" width="14"', html):
        assert 0 <= float(ax) + 7 <= map_view.WIDTH and 0 <= float(ay) + 7 <= map_view.HEIGHT


def test_the_plan_keeps_north_up_and_one_scale_for_both_axes():
    assets = [map_view.AssetMark(uuid.uuid4(), "a", "t", 0.0, 0.0),
              map_view.AssetMark(uuid.uuid4(), "b", "t", 100.0, 50.0)]

    plan = map_view.plan(assets, [])

    (_, x0, y0), (_, x1, y1) = plan.assets
    assert x1 > x0 and y1 < y0  # east is right, north is up
    assert (x1 - x0) / 100 == pytest.approx((y0 - y1) / 50)
    assert plan.step_m in (10, 20, 50) and plan.grid_x and plan.grid_y


@pytest.mark.parametrize("raw", [1, 2, 3, 7, 12, 0.03, 250, 999])
def test_grid_steps_are_one_two_or_five_times_a_power_of_ten(raw):
    step = map_view.nice_step(raw)
    assert step >= raw and step < raw * 5 + 1e-9
    assert f"{step:.0e}"[0] in "125"


@pytest.mark.parametrize("telemetry", [
    None, {}, {"position": None}, {"position": "here"}, {"position": {"x": 1}},
    {"position": {"x": True, "y": 2}}, {"position": {"x": 10**400, "y": 1}},
    {"position": {"x": "1", "y": "2"}}, [1, 2],
])
def test_a_robot_without_a_usable_position_is_listed_beside_the_plan(client, database, telemetry):
    level = gen_level(database)
    robot = gen_robot(database, "Odd", level)
    with database.transaction() as session:
        session.query(RobotSession).filter_by(robot_id=robot).update({"telemetry": telemetry})

    html = client.get("/map").text

    assert marks(html) == {}
    assert str(robot) in re.search(r'id="unplaced">.*?</ul>', html, re.S).group(0)


def test_the_first_level_is_shown_and_others_are_chosen_with_level(client, database):
    second = gen_level(database, name="B level", project="Plant")
    first = gen_level(database, name="a level", project="Plant")

    default = client.get("/map").text
    chosen = client.get(f"/map?level={second}").text

    assert f'data-level-id="{first}"' in default
    assert f'data-level-id="{second}"' in chosen
    assert re.search(rf'<option value="{second}" selected>', chosen)


@pytest.mark.parametrize("level", ["nope", "00000000-0000-0000-0000-000000000000", "\x00",
                                   "%ff" * 40])
def test_an_unknown_level_is_a_404_page(client, database, level):
    gen_level(database)
    response = client.get("/map", query_string={"level": level})
    assert response.status_code == 404 and response.mimetype == "text/html"
    assert "There is no level" in response.text


def test_with_no_levels_the_page_says_how_to_add_one(client, database):
    html = client.get("/map").text
    assert 'id="map-empty"' in html and "POST /api/v1/levels" in html


def test_the_polled_plan_answers_204_until_a_robot_moves(client, database):
    level = gen_level(database, assets={"dock": (0.0, 0.0)})
    robot = gen_robot(database, "Mover", level, position={"x": 1, "y": 1, "z": 0})
    page = client.get("/map").text
    since = re.search(r'data-version="([0-9a-f]+)"', page).group(1)

    unchanged = client.get(f"/ui/map?level={level}&since={since}", headers=HTMX)
    move(database, robot, 30.0, 4.0)
    moved = client.get(f"/ui/map?level={level}&since={since}", headers=HTMX)

    assert unchanged.status_code == 204
    assert moved.status_code == 200 and '<div id="map-live"' in moved.text
    assert (marks(moved.text)[str(robot)]["x"], marks(moved.text)[str(robot)]["y"]) == ("30", "4")


def test_names_are_escaped_in_the_svg(client, database):
    level = gen_level(database, assets={'<script>x</script>': (1.0, 1.0)})
    gen_robot(database, 'R"><b>', level, position={"x": 0, "y": 0, "z": 0})

    html = client.get("/map").text

    assert "<script>x</script>" not in html and "&lt;script&gt;" in html
    assert 'R"><b>' not in html
