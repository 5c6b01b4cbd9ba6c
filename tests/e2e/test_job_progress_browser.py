"""Job progress in headless Chromium against real processes (ground, the command-sender,
registry-api, robot-server): the test plays the robot over HTTP and reports a MOVE_TO's
phases; the command's detail page and the fleet view follow them without a reload."""

from __future__ import annotations

import pytest
import requests

from .test_operator_page_browser import SCREENSHOTS, browser, csp, page, sign_in  # noqa: F401
from .test_robot_commands_e2e import SERVICES, a_robot, reaches, telecommand

pytestmark = pytest.mark.browser


def progress(robot, command_id: str, **body) -> dict:
    answer = requests.post(f"{robot.base}/commands/{command_id}/progress", json=body,
                           headers=robot.headers, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()


@pytest.mark.local_only("robot-server is not in the compose stack's e2e set yet")
def test_the_detail_page_and_the_fleet_follow_a_jobs_phases(system_factory, page, users):
    system = system_factory(services=SERVICES, max_transmit_delay_s=0, max_stage_delay_s=0.2)
    robot = a_robot(system)
    robot.connect()
    command_id = telecommand(system, robot, "MOVE_TO", args={"x": 5, "y": 1, "z": 0})
    reaches(system, command_id, "ACKNOWLEDGED")
    (polled,) = robot.poll(wait=5)
    assert robot.ack(polled["id"]).status_code == 200

    sign_in(page, system, users["viewer"])
    page.goto(f"{system.ground_url}/telecommands/{command_id}")
    page.evaluate("window.__no_reload = 1")
    assert page.locator("#progress").count() == 0
    progress(robot, command_id, phase="planning", percent=0)
    page.wait_for_selector('#progress[data-phase="planning"]')
    progress(robot, command_id, phase="driving", percent=40, done=2, total=5)
    page.wait_for_selector('#progress[data-phase="driving"][data-percent="40"]')
    panel = page.locator("#progress")
    assert "40 %" in panel.inner_text() and "2 of 5 items" in panel.inner_text()
    assert panel.locator(".job-phases li").evaluate_all(
        "items => items.map(li => li.dataset.phase)") == ["planning", "driving"]
    assert panel.get_attribute("data-silent") == "false"
    page.screenshot(path=str(SCREENSHOTS / "page-job-progress.png"), full_page=True)

    page.goto(f"{system.ground_url}/fleet")
    job = page.locator(f'tr[data-robot-id="{robot.id}"] [data-role=job]')
    assert job.get_attribute("data-command-id") == command_id
    assert "MOVE_TO" in job.inner_text() and "driving" in job.inner_text()
    page.evaluate("window.__no_reload = 1")
    progress(robot, command_id, phase="arrived", percent=100)
    page.wait_for_selector(f'tr[data-robot-id="{robot.id}"] [data-role=job][data-phase="arrived"]')
    robot.result(command_id, detail="arrived")
    reaches(system, command_id, "EXECUTED")
    page.wait_for_selector(f'tr[data-robot-id="{robot.id}"]:not(:has([data-role=job]))')
    assert page.evaluate("window.__no_reload") == 1, "the page was reloaded"
