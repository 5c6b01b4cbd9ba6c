"""A time-tagged command sent from the operator page to a target with a contact window, in
headless Chromium against the real services: it waits READY for its pass, the page's
contact-window panel names it, and it is transmitted inside the pass."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import requests

from .test_operator_page_browser import (  # noqa: F401  (fixtures)
    accounts, browser, csp, open_console, page, row, send, wait_for_status,
)

pytestmark = [pytest.mark.browser,
              pytest.mark.local_only("sets the spacecraft's contact windows")]


def test_a_time_tagged_command_waits_for_the_pass_and_goes_inside_it(system_factory, page,
                                                                     accounts):
    system = system_factory(max_transmit_delay_s=0, max_stage_delay_s=0.2)
    now = datetime.now(timezone.utc)
    # Generous: signing in and sending take seconds on a busy machine, and the panel must
    # still show the command waiting afterwards.
    start, end = now + timedelta(seconds=25), now + timedelta(seconds=90)
    answer = requests.put(f"{system.ground_url}/api/targets/spacecraft/passes",
                          headers=system.headers("admin"), timeout=10,
                          json={"passes": [{"start_at": start.isoformat(),
                                            "end_at": end.isoformat()}]})
    assert answer.status_code == 200, answer.text

    open_console(page, system, accounts["operator"])
    not_before = (now + timedelta(seconds=3)).replace(microsecond=0)
    page.fill("#not-before", not_before.strftime("%Y-%m-%dT%H:%M:%S"))
    command_id = send(page, "PING")
    # The contact-window panel is live: the command shows there without a reload.
    waiting = page.locator(f'#passes [data-command-id="{command_id}"]')
    waiting.wait_for(timeout=15_000)
    assert waiting.count() == 1 and "waits for" in waiting.inner_text()
    assert wait_for_status(page, command_id, "READY") == "READY"

    wait_for_status(page, command_id, "EXECUTED", timeout=system.wait_s(60))
    command = requests.get(f"{system.ground_url}/api/telecommands/{command_id}",
                           headers=system.headers(), timeout=10).json()
    assert datetime.fromisoformat(command["not_before"]) == not_before
    sent = next(h["at"] for h in command["history"] if h["to_status"] == "TRANSMITTED")
    assert start <= datetime.fromisoformat(sent) < end
    page.screenshot(path="/tmp/page-time-tags.png", full_page=True)
