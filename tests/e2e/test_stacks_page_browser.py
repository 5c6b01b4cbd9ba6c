"""The Stacks page in headless Chromium against real processes (ground, the command-sender, the
spacecraft): a stack's progress and its steps' statuses move on without a reload until it is
COMPLETED, and an operator's Cancel ends a waiting stack CANCELLED."""

from __future__ import annotations

import pytest

from .accounts import Account
from .test_operator_page_browser import SCREENSHOTS, browser, csp, page, sign_in  # noqa: F401

pytestmark = pytest.mark.browser


def create(system, steps) -> str:
    with system.session("operator") as http:
        response = http.post(f"{system.ground_url}/api/stacks", timeout=10, json={
            "target": "spacecraft", "name": "browser stack", "steps": steps})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def test_the_stacks_page_follows_a_stack_live_and_cancels_one(
        system_factory, page, users: dict[str, Account]):
    system = system_factory(max_transmit_delay_s=0, max_stage_delay_s=0.3,
                            execution_failure_rate=0)
    sign_in(page, system, users["operator"])
    page.click("#nav-stacks")
    page.wait_for_url(f"{system.ground_url}/stacks")
    page.evaluate("window.__no_reload = 1")

    stack_id = create(system, [{"command_name": "PING", "wait_for": "EXECUTED"},
                               {"command_name": "SET_HEATER", "args": {"on": True},
                                "wait_for": "ACKNOWLEDGED"},
                               {"command_name": "PING", "wait_for": "EXECUTED"}])
    row = f'tr[data-stack-id="{stack_id}"]'
    page.wait_for_selector(row)
    page.wait_for_selector(f'{row}[data-status="COMPLETED"]', timeout=30_000)
    assert page.locator(f"{row} .stack-progress").inner_text() == "3 / 3"
    assert page.locator(f'{row} li[data-status="EXECUTED"]').count() == 3
    assert page.evaluate("window.__no_reload") == 1, "the page was reloaded"
    page.screenshot(path=str(SCREENSHOTS / "page-stacks-completed.png"), full_page=True)

    waiting = create(system, [{"command_name": "PING", "wait_for": "EXECUTED"},
                              {"command_name": "PING", "wait_for": "EXECUTED", "delay_s": 600}])
    page.wait_for_selector(f'tr[data-stack-id="{waiting}"] li[data-position="2"]'
                           '[data-status="READY"]', timeout=30_000)
    page.click(f"#cancel-{waiting}")
    page.wait_for_selector(f'tr[data-stack-id="{waiting}"][data-status="CANCELLED"]')
    assert page.get_attribute(f'tr[data-stack-id="{waiting}"] li[data-position="2"]',
                              "data-status") == "CANCELLED"
    assert page.locator(f"#cancel-{waiting}").count() == 0
    page.screenshot(path=str(SCREENSHOTS / "page-stacks-cancelled.png"), full_page=True)
