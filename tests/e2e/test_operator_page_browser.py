"""The operator page in headless Chromium against the real services: sign in, send, watch,
cancel, sign out; a viewer's read-only page; and no Content-Security-Policy violation anywhere.

Users are made the way an administrator would (the harness's first admin creates them over the
API) and sign in through the real /login form. Against a running stack the waits follow its
delays (MC_E2E_MAX_WAIT_S), and the tests that need a command to stay READY for a few seconds
draw until one does; when the stack's MAX_TRANSMIT_DELAY_S is too short for that they skip.
"""

from __future__ import annotations

import os
import time
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from mission_control.testing import missing

from .accounts import Account
from .harness import scheduled_or_gone, wait_for

pytestmark = pytest.mark.browser

SCREENSHOTS = Path("/tmp")

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
        missing(f"Debian chromium is not installed at {CHROMIUM} (apt-get install chromium); "
                "the browser tests are mandatory in CI")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def accounts(users) -> dict[str, Account]:
    """The operator and the viewer that the harness signs up when ground starts (the first
    admin creates them over the API, as an administrator would)."""
    return users


class CspWatch:
    """Every Content-Security-Policy violation the browser reports, on any page of a context."""

    def __init__(self) -> None:
        self.violations: list[str] = []

    def attach(self, page) -> None:
        page.on("console", self._console)

    def _console(self, message) -> None:
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            self.violations.append(message.text)


@pytest.fixture
def csp():
    watch = CspWatch()
    yield watch
    assert watch.violations == [], "Content-Security-Policy violations:\n" + \
        "\n".join(watch.violations)


@pytest.fixture
def page(browser, csp):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    csp.attach(page)
    page.set_default_timeout(15_000)
    yield page
    context.close()


def sign_in(page, system, account: Account) -> None:
    """Sign in through the form, as a person would, and land on the console."""
    assert system.users[account.role] is account  # the harness signs the users up first
    page.goto(f"{system.ground_url}/")
    page.wait_for_url("**/login?next=/")
    page.fill("#username", account.username)
    page.fill("#password", account.password)
    page.click("#sign-in")
    page.wait_for_url(f"{system.ground_url}/")
    page.wait_for_selector("#queue-body")


def open_console(page, system, account: Account) -> None:
    sign_in(page, system, account)
    page.evaluate("window.__no_reload = 1")
    page.evaluate(WATCH_ROWS)


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


def wait_for_status(page, command_id: str, status: str | tuple[str, ...],
                    timeout: float = 30) -> str:
    """Wait until the row shows ``status`` (or one of several); the one it shows."""
    wanted = (status,) if isinstance(status, str) else status
    deadline = time.monotonic() + timeout
    while (shown := status_of(page, command_id)) not in wanted:
        if time.monotonic() > deadline:
            raise AssertionError(f"row {command_id} is {shown}, not {status}, after {timeout}s")
        page.wait_for_timeout(100)
    return shown


def test_sent_command_shows_ready_then_reaches_executed_without_reload(system_factory, page,
                                                                        accounts):
    system = system_factory(max_transmit_delay_s=1, max_stage_delay_s=0.5)
    open_console(page, system, accounts["operator"])
    signed_in = page.locator("#signed-in")
    assert signed_in.get_attribute("data-username") == accounts["operator"].username
    assert signed_in.get_attribute("data-role") == "operator"

    # The test's own system fails nothing; a stack fails its EXECUTION_FAILURE_RATE of
    # commands, so there a command that FAILED is sent again (five in a row is unlikely).
    for _ in range(1 if system.private else 5):
        command_id = send(page, "SET_HEATER", tick=("on",))
        assert page.locator("#form-issued").inner_text().strip().endswith("(READY).")
        row(page, command_id).wait_for()
        if wait_for_status(page, command_id, ("EXECUTED", "FAILED"),
                           timeout=system.wait_s(30)) == "EXECUTED":
            break

    badge = row(page, command_id).locator("[data-role=status]")
    assert badge.inner_text() == "EXECUTED"
    assert "badge-executed" in badge.get_attribute("class")
    seen = page.evaluate("id => window.__seen[id]", command_id)
    assert seen[0] == "READY" and seen[-1] == "EXECUTED", seen
    assert seen == [s for s in PROGRESSION if s in seen], f"out of order: {seen}"
    assert page.evaluate("window.__no_reload") == 1, "the page was reloaded"
    assert row(page, command_id).locator("[data-action=cancel]").count() == 0
    page.screenshot(path=str(SCREENSHOTS / "page-operator.png"), full_page=True)

    page.click(f'tr[data-command-id="{command_id}"] a')
    page.wait_for_selector("#history")
    assert page.locator("#history [data-to-status]").evaluate_all(
        "items => items.map(i => i.dataset.toStatus)") == PROGRESSION
    assert page.locator("#history .actor").first.inner_text() == accounts["operator"].username
    page.screenshot(path=str(SCREENSHOTS / "page-operator-detail.png"), full_page=True)


def _seconds_until(iso: str) -> float:
    return (datetime.fromisoformat(iso) - datetime.now(timezone.utc)).total_seconds()


def no_long_enough_draw(system, tries: int, seconds: float) -> None:
    """Fail (the test's own system: its delays are long) or, against a stack, skip."""
    message = f"no command drew a transmit time more than {seconds} s away in {tries} tries"
    if system.private:
        pytest.fail(message)
    pytest.skip(message + ": the stack's MAX_TRANSMIT_DELAY_S is too short for this test")


def test_cancel_button_cancels_a_ready_command(system_factory, page, accounts):
    system = system_factory(max_transmit_delay_s=30)
    open_console(page, system, accounts["operator"])

    # The transmit time is random in [0, 30] s; cancel one that stays READY long enough
    # for the click, so the test does not depend on the draw.
    for _ in range(6):
        command_id = send(page, "PING")
        row(page, command_id).wait_for()
        # Scheduled, or (a stack's short delay) already on its way: then it has no transmit time.
        page.wait_for_selector(f'tr[data-command-id="{command_id}"][data-transmit-at], '
                               f'tr[data-command-id="{command_id}"]:not([data-status="READY"])')
        transmit_at = row(page, command_id).get_attribute("data-transmit-at")
        if transmit_at and _seconds_until(transmit_at) > 3:
            break
    else:
        no_long_enough_draw(system, 6, 3)

    row(page, command_id).locator("[data-action=cancel]").click()
    wait_for_status(page, command_id, "CANCELLED", timeout=10)
    assert row(page, command_id).locator("[data-role=status]").inner_text() == "CANCELLED"
    assert row(page, command_id).locator("[data-action=cancel]").count() == 0
    assert "Cancelled PING" in page.locator("#notices").inner_text()
    assert page.evaluate("window.__no_reload") == 1
    page.screenshot(path=str(SCREENSHOTS / "page-operator-cancelled.png"), full_page=True)

    page.wait_for_timeout(1500)  # a few polls later it is still CANCELLED: the worker left it
    assert status_of(page, command_id) == "CANCELLED"


def test_page_requests_nothing_but_its_own_server(system_factory, browser, accounts, csp):
    system = system_factory(services=("ground",))
    context = browser.new_context()
    page = context.new_page()
    csp.attach(page)
    hosts = []
    page.on("request", lambda request: hosts.append((urlsplit(request.url).hostname, request.url)))
    sign_in(page, system, accounts["operator"])
    page.wait_for_load_state("networkidle")
    page.select_option("#command-name", "ADJUST_ATTITUDE")
    page.wait_for_selector("#arg-roll")
    page.wait_for_timeout(1500)  # let the queue poll a time or two
    context.close()
    assert hosts, "no requests were recorded"
    ground = urlsplit(system.ground_url).hostname
    assert {host for host, _ in hosts} == {ground}, [u for h, u in hosts if h != ground]
    assert any(url.endswith("/static/vendor/htmx.min.js") for _, url in hosts)
    assert any("/ui/queue" in url for _, url in hosts), "the queue never polled"


# --- signing in and out, and a viewer's page ------------------------------------------------

def issue_by_api(system, account: Account, command_name: str = "PING") -> str:
    """Issue a command over the API as ``account`` (with its bearer token); return its id."""
    response = requests.post(f"{system.ground_url}/api/telecommands", timeout=10,
                             json={"command_name": command_name},
                             headers=system.headers(account.role))
    assert response.status_code == 201, response.text
    return response.json()["id"]


def ready_for_a_while(system, account: Account, seconds: float = 5, tries: int = 6) -> str:
    """Issue PINGs by API until the worker schedules one more than ``seconds`` away; its id."""
    for _ in range(tries):
        command_id = issue_by_api(system, account)
        url = f"{system.ground_url}/api/telecommands/{command_id}"
        command = wait_for(lambda: scheduled_or_gone(requests.get(
            url, headers=system.headers("viewer"), timeout=10).json()),
            timeout=system.wait_s(30), message="a transmit time")
        if command["transmit_at"] and _seconds_until(command["transmit_at"]) > seconds:
            return command_id
    no_long_enough_draw(system, tries, seconds)


def test_the_login_page_refuses_a_wrong_password_and_keeps_the_name(system_factory, page,
                                                                     accounts):
    system = system_factory(services=("ground",))
    assert system.users["operator"] is accounts["operator"]  # exists: only the password is wrong
    page.goto(f"{system.ground_url}/login")
    page.screenshot(path=str(SCREENSHOTS / "page-login.png"), full_page=True)
    page.fill("#username", accounts["operator"].username)
    page.fill("#password", "not the password")
    page.click("#sign-in")
    page.wait_for_selector("#login-error")
    assert page.locator("#login-error").inner_text() == "Wrong username or password."
    assert page.input_value("#username") == accounts["operator"].username
    assert page.input_value("#password") == ""
    assert page.evaluate("document.cookie") == ""  # nothing readable by scripts
    page.screenshot(path=str(SCREENSHOTS / "page-login-refused.png"), full_page=True)


def test_a_viewer_sees_the_queue_and_details_but_cannot_send_or_cancel(system_factory, page,
                                                                       accounts):
    system = system_factory(max_transmit_delay_s=60)
    sign_in(page, system, accounts["viewer"])

    assert page.locator("#signed-in").get_attribute("data-role") == "viewer"
    assert page.locator("#send-form").count() == 0
    assert page.locator("#read-only").is_visible()
    command_id = ready_for_a_while(system, accounts["operator"])
    row(page, command_id).wait_for()
    assert status_of(page, command_id) == "READY"
    assert page.locator("[data-action=cancel]").count() == 0
    page.screenshot(path=str(SCREENSHOTS / "page-viewer.png"), full_page=True)

    page.click(f'tr[data-command-id="{command_id}"] a')
    page.wait_for_selector("#detail-panel")
    assert page.locator("#detail-panel").get_attribute("data-status") == "READY"
    assert page.locator("[data-action=cancel]").count() == 0
    page.screenshot(path=str(SCREENSHOTS / "page-viewer-detail.png"), full_page=True)
    cancel = requests.put(f"{system.ground_url}/api/telecommands/{command_id}/cancel",
                          headers=system.headers("operator"), timeout=10)  # it leaves no work
    assert cancel.status_code == 200, cancel.text


def test_signing_out_lands_on_login_and_the_page_stays_closed(system_factory, page, accounts,
                                                               csp):
    system = system_factory(services=("ground",))
    sign_in(page, system, accounts["operator"])
    other_tab = page.context.new_page()  # the same browser, so the same session
    csp.attach(other_tab)
    other_tab.goto(f"{system.ground_url}/?status=READY")
    other_tab.wait_for_selector("#queue-body")

    page.click("#sign-out")
    page.wait_for_url(f"{system.ground_url}/login")
    assert page.locator("#login-form").is_visible()
    assert page.locator("#signed-in").count() == 0
    # The other tab's next poll finds the session revoked and htmx takes it to the sign-in
    # page, with the page it showed to come back to.
    other_tab.wait_for_url(f"{system.ground_url}/login?next=/?status%3DREADY")
    other_tab.close()

    page.goto(f"{system.ground_url}/")  # the session is gone: back to the sign-in page
    page.wait_for_url("**/login?next=/")
    assert page.context.cookies() == []


def test_the_csp_watch_sees_a_violation(system_factory, browser):
    """The tests above find no violation because there is none, not because none is seen:
    an inline style forced into the page is blocked and reported."""
    system = system_factory(services=("ground",))
    watch = CspWatch()
    context = browser.new_context()
    page = context.new_page()
    watch.attach(page)
    response = page.goto(f"{system.ground_url}/login")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.evaluate("document.body.setAttribute('style', 'color: red')")
    page.wait_for_timeout(300)
    context.close()
    assert watch.violations and "style-src" in watch.violations[0]


def test_a_stale_tab_is_told_why_its_send_was_refused(system_factory, browser, accounts, csp):
    """Signing in again (here after the cookie was lost) starts a new session: the old tab's
    CSRF token no longer matches, and its send is refused with a notice, not silently."""
    system = system_factory(services=("ground",))
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    stale = context.new_page()
    csp.attach(stale)
    sign_in(stale, system, accounts["operator"])
    # The new session's cookie replaces the old one at once (signing in elsewhere, then
    # taking its cookie): with the cookie cleared first, the stale tab's queue poll would
    # be sent to /login in between, which is another story (a signed-out tab).
    elsewhere = browser.new_context()
    fresh = elsewhere.new_page()
    csp.attach(fresh)
    fresh.goto(f"{system.ground_url}/login")
    fresh.fill("#username", accounts["operator"].username)
    fresh.fill("#password", accounts["operator"].password)
    fresh.click("#sign-in")
    fresh.wait_for_url(f"{system.ground_url}/")
    context.add_cookies(elsewhere.cookies())
    elsewhere.close()

    stale.click("#send-button")
    stale.wait_for_selector('#notices [data-notice="error"]')
    assert "reload the page" in stale.locator("#notices").inner_text()
    assert stale.locator("#send-form").is_visible() and stale.locator("#form-issued").count() == 0
    stale.screenshot(path=str(SCREENSHOTS / "page-stale-tab.png"), full_page=True)
    context.close()
