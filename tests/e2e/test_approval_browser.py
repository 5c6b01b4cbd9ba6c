"""Two-person approval on the operator page, in headless Chromium against the real services:
a hazardous command sent by one operator waits AWAITING_APPROVAL; its sender's page does not
offer it for approval; a second operator's page lists it, and Approve sends it on its way."""

from __future__ import annotations

import secrets

import pytest
import requests

from .harness import wait_for
from .test_operator_page_browser import browser, csp, page  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser,
              pytest.mark.local_only("needs APPROVAL_REQUIRED=hazardous on its own ground")]


def _second_operator(system, admin) -> tuple[str, str]:
    """An operator other than the harness's, created by the admin as a person would."""
    username, password = f"e2e-second-{secrets.token_hex(4)}", secrets.token_urlsafe(18)
    response = requests.post(f"{system.ground_url}/api/users", headers=admin.headers,
                              json={"username": username, "password": password,
                                    "role": "operator"}, timeout=30)
    assert response.status_code == 201, response.text
    return username, password


def _sign_in(page, system, username: str, password: str) -> None:
    page.goto(f"{system.ground_url}/")
    page.wait_for_url("**/login?next=/")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#sign-in")
    page.wait_for_url(f"{system.ground_url}/")
    page.wait_for_selector("#approval-panel")


def test_a_second_operator_sees_the_waiting_command_and_approves_it(system_factory, page):
    system = system_factory(approval_required="hazardous", max_transmit_delay_s=0.2,
                            max_stage_delay_s=0.2)
    users = system.users
    sender = users["operator"]
    sent = requests.post(f"{system.ground_url}/api/telecommands", headers=sender.headers,
                         json={"command_name": "REBOOT", "confirm": True}, timeout=30)
    assert sent.status_code == 201 and sent.json()["status"] == "AWAITING_APPROVAL"
    command_id = sent.json()["id"]

    # The sender's own page: the command is in the queue, waiting, but not offered to them.
    _sign_in(page, system, sender.username, sender.password)
    page.locator(f'#queue tr[data-command-id="{command_id}"][data-status="AWAITING_APPROVAL"]') \
        .wait_for()
    assert page.locator(f"#approval-{command_id}").count() == 0
    assert page.locator("#no-approvals").is_visible()
    page.click("#sign-out")
    page.wait_for_url("**/login**")

    second, password = _second_operator(system, users["admin"])
    _sign_in(page, system, second, password)
    waiting = page.locator(f"#approval-{command_id}")
    waiting.wait_for()
    assert waiting.locator("[data-role=sender]").inner_text() == sender.username
    page.evaluate("window.__approval_page = 1")
    waiting.locator("[data-action=approve]").click()

    page.locator("#no-approvals").wait_for()
    assert page.locator("#notices [data-notice=ok]").inner_text() == f"Approved {command_id[:8]}."
    page.screenshot(path="/tmp/page-approval.png", full_page=True)
    assert page.evaluate("window.__approval_page") == 1, "the page was reloaded"
    wait_for(lambda: requests.get(f"{system.ground_url}/api/telecommands/{command_id}",
                                  headers=sender.headers, timeout=30).json()["status"]
             == "EXECUTED", timeout=system.wait_s(30), message="the approved command executed")
    command = requests.get(f"{system.ground_url}/api/telecommands/{command_id}",
                           headers=sender.headers, timeout=30).json()
    assert command["approved_by"] == second
    assert [(h["to_status"], h["actor"]) for h in command["history"][:2]] == [
        ("AWAITING_APPROVAL", sender.username), ("READY", second)]
