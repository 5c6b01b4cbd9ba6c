"""The Batches page in headless Chromium against real processes (ground, the command-sender and
robot-server): an operator sends a command to every robot of a level from the form, and the
batch's row follows its commands without a reload (its robots are offline, so their commands
wait in robot-server's queue, ACKNOWLEDGED). Screenshot: /tmp/page-batches.png.
"""

from __future__ import annotations

import pytest

from .accounts import Account
from .sim_fleet import add_fleet
from .test_operator_page_browser import SCREENSHOTS, browser, csp, page, sign_in  # noqa: F401

pytestmark = pytest.mark.browser


@pytest.mark.local_only("writes the robots straight to the database")
def test_a_fleet_wide_command_sent_from_the_page_rolls_up_live(system_factory, database, browser,
                                                               page, csp,
                                                               users: dict[str, Account]):
    system = system_factory(services=("ground", "command-sender", "robot-server"),
                            max_transmit_delay_s=0)
    level_id, robot_ids = add_fleet(database, 3, prefix="page", cheap=True)

    sign_in(page, system, users["operator"])
    page.goto(f"{system.ground_url}/batches")
    page.evaluate("window.__no_reload = 1")
    page.select_option("#batch-command", "STOP")
    page.select_option("#batch-place", f"level_id:{level_id}")
    page.click("#batch-send")
    sent = page.locator("#batch-sent")
    sent.wait_for()
    assert "STOP sent to 3 targets." in sent.inner_text()
    batch_id = sent.get_attribute("data-batch-id")

    row = page.locator(f"#batch-{batch_id}")
    row.wait_for()  # the table refreshes at once (HX-Trigger), then every 2 s
    page.wait_for_selector(f'#batch-{batch_id} td[data-status="ACKNOWLEDGED"]:text-is("3")',
                           timeout=20_000)
    assert row.get_attribute("data-done") == "false"
    assert row.locator('[data-role="count"]').inner_text() == "3"
    assert page.evaluate("window.__no_reload") == 1
    page.screenshot(path=str(SCREENSHOTS / "page-batches.png"), full_page=True)

    page.select_option("#batch-command", "DOCK")
    page.fill("#batch-module", "arm")  # none of them has one: refused, naming them
    page.click("#batch-send")
    error = page.locator("#batch-error")
    error.wait_for()
    assert "without a module named 'arm'" in error.inner_text()
    assert robot_ids[0] in error.inner_text()
