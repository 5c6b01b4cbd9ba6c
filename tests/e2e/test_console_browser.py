"""The console's frame, Map, Reports and Users in headless Chromium against real processes
(ground, registry-api and robot-server under gunicorn): an admin signs in, walks every entry
of the navigation bar with the keyboard alone, finds no horizontal scroll at 800 px, watches a
robot move on the map when its heartbeats report a new position (no reload), opens its
commands from the map, and creates a user on the Users page.
"""

from __future__ import annotations

import uuid

import pytest
import requests

from .accounts import Account
from .test_operator_page_browser import SCREENSHOTS, browser, csp, page, sign_in  # noqa: F401

pytestmark = pytest.mark.browser

NAV = [("commands", "/"), ("stacks", "/stacks"), ("batches", "/batches"), ("fleet", "/fleet"),
       ("telemetry", "/telemetry"), ("alerts", "/alerts"), ("map", "/map"), ("reports", "/reports"),
       ("users", "/users")]
PASSWORD = "console " + uuid.uuid4().hex[:8]


def registry_post(system, resource: str, body: dict) -> dict:
    response = requests.post(f"{system.registry_url}/api/v1/{resource}", json=body, timeout=10,
                             headers=system.headers("admin"))
    assert response.status_code == 201, response.text
    return response.json()


class PlacedRobot:
    """A robot on a level, registered by the admin, with a session on robot-server."""

    def __init__(self, system, level_id: str) -> None:
        self.id = registry_post(system, "robots", {
            "name": f"Mapper {uuid.uuid4().hex[:4]}", "owner": "Ada",
            "owner_email": "ada@example.com", "password": PASSWORD, "level_id": level_id})["id"]
        self.base = f"{system.robot_server_url}/robots/{self.id}"
        opened = requests.post(f"{self.base}/session", json={"password": PASSWORD}, timeout=10)
        assert opened.status_code == 201, opened.text
        self.headers = {"Authorization": f"Bearer {opened.json()['token']}"}

    def at(self, x: float, y: float) -> None:
        response = requests.post(f"{self.base}/heartbeat", headers=self.headers, timeout=10,
                                 json={"status": "RUNNING", "telemetry": {
                                     "battery": 80.0, "position": {"x": x, "y": y, "z": 0.0}}})
        assert response.status_code == 200, response.text


def a_level_with_a_robot(system) -> tuple[str, PlacedRobot]:
    workspace = registry_post(system, "workspaces", {"name": f"ws-{uuid.uuid4().hex[:6]}"})
    project = registry_post(system, "projects", {"workspace_id": workspace["id"],
                                                 "name": "Plant"})
    level = registry_post(system, "levels", {"project_id": project["id"], "name": "Hall"})
    for name, x, y in (("Charger", 0.0, 0.0), ("Door", 30.0, 20.0)):
        registry_post(system, "fixed-assets", {"level_id": level["id"], "name": name,
                                               "asset_type": "dock",
                                               "position": {"x": x, "y": y, "z": 0.0}})
    return level["id"], PlacedRobot(system, level["id"])


def tab_to(page, element_id: str, limit: int = 40) -> None:
    """Press Tab until the element has the focus (as a keyboard user would)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement && document.activeElement.id") == element_id:
            return
    raise AssertionError(f"#{element_id} never got the focus with Tab")


# What sticks out to the right, to say why a page scrolls sideways.
WIDER_THAN_THE_PAGE = """() => [...document.querySelectorAll("body *")]
  .filter(el => el.getBoundingClientRect().right > document.documentElement.clientWidth)
  .slice(0, 5).map(el => el.tagName + "#" + el.id + "." + el.className)"""


def horizontal_overflow(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - "
                         "document.documentElement.clientWidth")


@pytest.mark.local_only("registers levels, assets and robots of its own")
def test_the_console_by_keyboard_at_two_widths_with_a_robot_moving_on_the_map(
        system_factory, page, users: dict[str, Account]):
    system = system_factory(services=("ground", "registry-api", "robot-server"))
    for url in (system.registry_url, system.robot_server_url):
        system.wait_healthy(url)
    level_id, robot = a_level_with_a_robot(system)
    robot.at(5.0, 5.0)
    sign_in(page, system, users["admin"])

    # The skip link is the first stop and takes the focus past the navigation.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    assert page.locator(".skip-link").bounding_box()["y"] >= 0  # shown while focused
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"

    for key, path in NAV:  # every entry, by keyboard alone, each marked current on its page
        tab_to(page, f"nav-{key}")
        page.keyboard.press("Enter")
        page.wait_for_url(f"{system.ground_url}{path}")
        assert page.get_attribute(f"#nav-{key}", "aria-current") == "page"
        assert page.locator("[aria-current=page]").count() == 1
        assert horizontal_overflow(page) <= 0, f"{path} scrolls sideways at 1400 px"
    assert page.locator("#alert-badge").count() == 1

    for width in (1280, 800):
        page.set_viewport_size({"width": width, "height": 900})
        for key, path in NAV + [("daily", "/reports/daily")]:
            page.goto(f"{system.ground_url}{path}")
            page.screenshot(path=str(SCREENSHOTS / f"page-console-{key}-{width}.png"),
                            full_page=True)
            wide = page.evaluate(WIDER_THAN_THE_PAGE)
            assert horizontal_overflow(page) <= 0, f"{path} scrolls sideways at {width} px: {wide}"

    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{system.ground_url}/map?level={level_id}")
    mark = page.locator(f'a.robot-mark[data-robot-id="{robot.id}"]')
    mark.wait_for()
    assert (mark.get_attribute("data-x"), mark.get_attribute("data-y")) == ("5", "5")
    assert page.locator(".asset-mark").count() == 2
    before = mark.get_attribute("data-cx")
    page.evaluate("window.__no_reload = 1")

    robot.at(25.0, 15.0)
    page.wait_for_selector(f'a.robot-mark[data-robot-id="{robot.id}"][data-x="25"][data-y="15"]')
    assert mark.get_attribute("data-cx") != before
    assert page.evaluate("window.__no_reload") == 1, "the page was reloaded"
    page.screenshot(path=str(SCREENSHOTS / "page-console-map-moved.png"), full_page=True)

    mark.locator("circle").click()  # the robot's commands
    page.wait_for_url(f"{system.ground_url}/?target={robot.id}")
    assert page.locator("#queue-target").count() == 1

    page.goto(f"{system.ground_url}/users")
    name = f"new-{uuid.uuid4().hex[:6]}"
    page.fill("#new-username", name)
    page.fill("#new-password", "long enough password")
    page.select_option("#new-role", "operator")
    page.click("#create-user")
    page.wait_for_selector(f'tr[data-username="{name}"][data-role="operator"]')
    assert page.input_value("#new-password") == ""
    page.screenshot(path=str(SCREENSHOTS / "page-console-users-created.png"), full_page=True)
