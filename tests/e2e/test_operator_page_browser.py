"""The operator page in headless Chromium against the real services: send, watch, cancel."""

from __future__ import annotations

import os
import time
from datetime import datetime, timezone
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PROGRESSION = ["READY", "TRANSMITTED", "ACKNOWLEDGED", "EXECUTED"]

# Records every data-status a queue row shows, in order, however briefly: polling swaps
# can replace a row faster than an assertion could look at it.
WATCH_ROWS = """() => {
  window.__seen = {};
  const record = (row) => {
    const id = row.dataset.commandId, status = row.dataset.status;
    const seen = (window.__seen[id] = window.__seen[id] || []);
    if (seen[seen.length - 1] !== status) seen.push(status);
  };
  const scan = () => document.querySelectorAll("tr[data-command-id]").forEach(record);
  new MutationObserver(scan).observe(document.body,
    {subtree: true, childList: true, attributes: true, attributeFilter: ["data-status"]});
  scan();
}"""


@pytest.fixture
def browser():
    if not os.path.exists(CHROMIUM):
        reason = f"Debian chromium is not installed at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(reason + "; the browser tests are mandatory in CI", pytrace=False)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def open_console(page, system) -> None:
    page.goto(f"{system.ground_url}/")
    page.evaluate("window.__no_reload = 1")
    page.evaluate(WATCH_ROWS)
    page.fill("#operator", "e2e operator")


def send(page, command_name: str, *, tick: tuple[str, ...] = ()) -> str:
    """Send a command with the form; return its id."""
    page.select_option("#command-name", command_name)
    page.wait_for_selector(f'#args[data-command="{command_name}"]')
    for name in tick:
        page.check(f"#arg-{name}")
    previous = page.get_attribute("#form-issued", "data-command-id") if page.locator(
        "#form-issued").count() else None
    page.click("#send-button")
    page.wait_for_function(
        "prev => { const el = document.querySelector('#form-issued');"
        " return el && el.dataset.commandId !== prev; }", arg=previous)
    return page.get_attribute("#form-issued", "data-command-id")


def row(page, command_id: str):
    return page.locator(f'tr[data-command-id="{command_id}"]')


def status_of(page, command_id: str) -> str | None:
    locator = row(page, command_id)
    return locator.get_attribute("data-status") if locator.count() else None


def wait_for_status(page, command_id: str, status: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while status_of(page, command_id) != status:
        if time.monotonic() > deadline:
            raise AssertionError(f"row {command_id} is {status_of(page, command_id)}, "
                                 f"not {status}, after {timeout}s")
        page.wait_for_timeout(100)


def test_sent_command_shows_ready_then_reaches_executed_without_reload(system_factory, page,
                                                                        tmp_path):
    system = system_factory(max_transmit_delay_s=1, max_stage_delay_s=0.5)
    open_console(page, system)

    command_id = send(page, "SET_HEATER", tick=("on",))
    assert page.locator("#form-issued").inner_text().strip().endswith("(READY).")
    row(page, command_id).wait_for()
    wait_for_status(page, command_id, "EXECUTED")

    badge = row(page, command_id).locator("[data-role=status]")
    assert badge.inner_text() == "EXECUTED"
    assert "badge-executed" in badge.get_attribute("class")
    seen = page.evaluate("id => window.__seen[id]", command_id)
    assert seen[0] == "READY" and seen[-1] == "EXECUTED", seen
    assert seen == [s for s in PROGRESSION if s in seen], f"out of order: {seen}"
    assert page.evaluate("window.__no_reload") == 1, "the page was reloaded"
    assert row(page, command_id).locator("[data-action=cancel]").count() == 0
    page.screenshot(path=str(tmp_path / "operator-page-executed.png"), full_page=True)

    page.click(f'tr[data-command-id="{command_id}"] a')
    page.wait_for_selector("#history")
    assert page.locator("#history [data-to-status]").evaluate_all(
        "items => items.map(i => i.dataset.toStatus)") == PROGRESSION
    page.screenshot(path=str(tmp_path / "operator-detail.png"), full_page=True)


def _seconds_until(iso: str) -> float:
    return (datetime.fromisoformat(iso) - datetime.now(timezone.utc)).total_seconds()


def test_cancel_button_cancels_a_ready_command(system_factory, page, tmp_path):
    system = system_factory(max_transmit_delay_s=30)
    open_console(page, system)

    # The transmit time is random in [0, 30] s; cancel one that stays READY long enough
    # for the click, so the test does not depend on the draw.
    for _ in range(6):
        command_id = send(page, "PING")
        row(page, command_id).wait_for()
        page.wait_for_selector(f'tr[data-command-id="{command_id}"][data-transmit-at]')
        transmit_at = row(page, command_id).get_attribute("data-transmit-at")
        if transmit_at and _seconds_until(transmit_at) > 3:
            break
    else:
        pytest.fail("no command drew a transmit time more than 3 s away in 6 tries")

    row(page, command_id).locator("[data-action=cancel]").click()
    wait_for_status(page, command_id, "CANCELLED", timeout=10)
    assert row(page, command_id).locator("[data-role=status]").inner_text() == "CANCELLED"
    assert row(page, command_id).locator("[data-action=cancel]").count() == 0
    assert "Cancelled PING" in page.locator("#notices").inner_text()
    assert page.evaluate("window.__no_reload") == 1
    page.screenshot(path=str(tmp_path / "operator-page-cancelled.png"), full_page=True)

    page.wait_for_timeout(1500)  # a few polls later it is still CANCELLED: the worker left it
    assert status_of(page, command_id) == "CANCELLED"


def test_page_requests_nothing_but_its_own_server(system_factory, browser):
    system = system_factory(services=("ground",))
    context = browser.new_context()
    page = context.new_page()
    hosts = []
    page.on("request", lambda request: hosts.append((urlsplit(request.url).hostname, request.url)))
    page.goto(f"{system.ground_url}/", wait_until="networkidle")
    page.select_option("#command-name", "ADJUST_ATTITUDE")
    page.wait_for_selector("#arg-roll")
    page.wait_for_timeout(1500)  # let the queue poll a time or two
    context.close()
    assert hosts, "no requests were recorded"
    assert {host for host, _ in hosts} == {"127.0.0.1"}, [u for h, u in hosts if h != "127.0.0.1"]
    assert any(url.endswith("/static/vendor/htmx.min.js") for _, url in hosts)
    assert any("/ui/queue" in url for _, url in hosts), "the queue never polled"
