"""The fleet view in headless Chromium against real processes: ground, registry-api and
robot-server (gunicorn), a robot the admin registered, and heartbeats the test sends to
robot-server over HTTP as a robot-client would. The page shows the robot go online, offline
when its heartbeats stop (robot-server's sweeper, no request needed) and online again, all
without a reload.
"""

from __future__ import annotations

import time
import uuid

import pytest
import requests

from .accounts import Account
from .test_operator_page_browser import SCREENSHOTS, browser, csp, page, sign_in  # noqa: F401

pytestmark = pytest.mark.browser

INTERVAL_S = 0.5  # robot-server's HEARTBEAT_INTERVAL_S: offline after 1.5 s of silence
PASSWORD = "fleet view " + uuid.uuid4().hex[:8]

# Records every data-connection the robot's row shows, in order, however briefly.
WATCH_ROBOT = """id => {
  window.__connections = [];
  const record = () => {
    const row = document.querySelector(`tr[data-robot-id="${id}"]`);
    const shown = row && row.dataset.connection;
    const seen = window.__connections;
    if (shown && seen[seen.length - 1] !== shown) seen.push(shown);
  };
  new MutationObserver(record).observe(document.body,
    {subtree: true, childList: true, attributes: true, attributeFilter: ["data-connection"]});
  record();
}"""


class Robot:
    """A robot registered by the admin through registry-api, with a session on robot-server."""

    def __init__(self, system, name: str) -> None:
        admin = system.headers("admin")
        created = requests.post(f"{system.registry_url}/api/v1/robots", headers=admin, timeout=10,
                                json={"name": name, "owner": "Ada", "owner_email": "ada@example.com",
                                      "password": PASSWORD})
        assert created.status_code == 201, created.text
        self.id = created.json()["id"]
        module = requests.post(f"{system.registry_url}/api/v1/modules", headers=admin, timeout=10,
                               json={"name": "gripper", "type": "actuator", "robot_id": self.id})
        assert module.status_code == 201, module.text
        self.module_id = module.json()["id"]
        self.base = f"{system.robot_server_url}/robots/{self.id}"
        opened = requests.post(f"{self.base}/session", json={"password": PASSWORD}, timeout=10)
        assert opened.status_code == 201, opened.text
        self.headers = {"Authorization": f"Bearer {opened.json()['token']}"}

    def beat(self) -> None:
        response = requests.post(f"{self.base}/heartbeat", headers=self.headers, timeout=10, json={
            "status": "RUNNING", "modules": [{"module_id": self.module_id, "status": "RUNNING"}],
            "telemetry": {"battery": 76.0, "cpu": 20.0}})
        assert response.status_code == 200, response.text


def connection(page, robot: Robot) -> str | None:
    return page.get_attribute(f'tr[data-robot-id="{robot.id}"]', "data-connection")


def beat_until_shown(page, robot: Robot, timeout: float = 15) -> None:
    """Heart-beat every 0.3 s (well inside the interval) until the page shows it online."""
    deadline = time.monotonic() + timeout
    while connection(page, robot) != "online":
        assert time.monotonic() < deadline, "the fleet view never showed the robot online"
        robot.beat()
        page.wait_for_timeout(300)


@pytest.mark.local_only("needs robot-server with a short HEARTBEAT_INTERVAL_S")
def test_the_fleet_view_shows_a_robot_go_offline_and_online_without_a_reload(
        system_factory, page, users: dict[str, Account]):
    system = system_factory(services=("ground", "registry-api", "robot-server"),
                            heartbeat_interval_s=INTERVAL_S)
    for url in (system.registry_url, system.robot_server_url):
        system.wait_healthy(url)
    sign_in(page, system, users["viewer"])  # viewers may watch the fleet
    page.click("#nav-fleet")
    page.wait_for_url(f"{system.ground_url}/fleet")
    page.evaluate("window.__no_reload = 1")
    assert "robot-client create" in page.locator("#fleet-empty").inner_text()
    page.screenshot(path=str(SCREENSHOTS / "page-fleet-empty.png"), full_page=True)

    name = f'Rover <b>{uuid.uuid4().hex[:6]}</b>'  # HTML in a name shows as text
    robot = Robot(system, name)
    row = page.locator(f'tr[data-robot-id="{robot.id}"]')
    row.wait_for()  # registered: it shows at the next poll
    page.evaluate(WATCH_ROBOT, robot.id)
    assert row.get_attribute("data-connection") == "offline"
    assert row.locator("th.robot-name a").inner_text() == name
    assert row.locator("b").count() == 0

    beat_until_shown(page, robot)
    page.wait_for_selector(f'tr[data-robot-id="{robot.id}"] [data-battery="76"]')
    assert row.locator("[data-role=connection]").inner_text() == "Online"
    assert row.get_attribute("data-status") == "RUNNING"
    assert row.locator('li[data-status="RUNNING"] .module-name').inner_text() == "gripper"
    assert page.locator("#fleet-summary").inner_text() == "1 robot, 1 online"
    page.screenshot(path=str(SCREENSHOTS / "page-fleet-online.png"), full_page=True)

    silent_since = time.monotonic()  # no heartbeat from now on: robot-server's sweeper notices
    page.wait_for_selector(f'tr[data-robot-id="{robot.id}"][data-connection="offline"]',
                           timeout=15_000)
    # The timeout (3 x 0.5 s), the sweeper's pass (<= 1 s more), the page's poll (1 s).
    assert time.monotonic() - silent_since < 3 * INTERVAL_S + 1 + 1 + 2  # + slack
    assert row.locator("[data-role=connection]").inner_text() == "Offline"
    assert page.locator("#fleet-summary").inner_text() == "1 robot, 0 online"
    page.screenshot(path=str(SCREENSHOTS / "page-fleet-offline.png"), full_page=True)

    beat_until_shown(page, robot)
    assert page.evaluate("window.__connections") == ["offline", "online", "offline", "online"]
    assert page.evaluate("window.__no_reload") == 1, "the page was reloaded"

    row.locator("[data-action=commands]").click()  # the robot's commands: none yet
    page.wait_for_url(f"{system.ground_url}/?target={robot.id}")
    assert "No commands to" in page.locator("#queue-body").inner_text()
    page.screenshot(path=str(SCREENSHOTS / "page-fleet-robot-commands.png"), full_page=True)
