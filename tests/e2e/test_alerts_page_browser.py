"""The Alerts page in headless Chromium against a real ground (gunicorn): an admin sets a limit
over the API, samples beyond it are pushed to POST /api/telemetry, and the operator's page
shows the alert appear and worsen without a reload, with the open-alert count in the top bar,
then acknowledges it with a comment from the keyboard. A viewer sees the alert but no button.
Screenshots: /tmp/page-alerts-*.png.
"""

from __future__ import annotations

import uuid

import pytest
import requests

from .accounts import Account
from .test_operator_page_browser import SCREENSHOTS, browser, csp, page, sign_in  # noqa: F401

pytestmark = pytest.mark.browser


def push(system, parameter: str, value: float) -> None:
    """One spacecraft sample, through the telemetry ingest (which checks the limits)."""
    answer = requests.post(f"{system.ground_url}/api/telemetry", timeout=10,
                           headers=system.headers("operator"),
                           json={"points": [{"source": "spacecraft", "parameter": parameter,
                                             "value": value}]})
    assert answer.status_code == 201, answer.text


def test_an_alert_appears_live_and_the_operator_acknowledges_it(system_factory, browser, page,
                                                               csp, users: dict[str, Account]):
    system = system_factory(services=("ground",))
    parameter = f"e2e_temp_{uuid.uuid4().hex[:6]}"  # its own: a shared stack has other alerts
    put = requests.put(f"{system.ground_url}/api/limits", headers=system.headers("admin"),
                       timeout=10, json={"source": "spacecraft", "parameter": parameter,
                                         "yellow_high": 30.0, "red_high": 40.0})
    assert put.status_code == 200, put.text

    sign_in(page, system, users["operator"])
    page.goto(f"{system.ground_url}/alerts")
    page.evaluate("window.__no_reload = 1")
    assert page.locator("#tab-open").get_attribute("aria-current") == "true"  # the nav has "page"

    push(system, parameter, 35.0)  # beyond yellow_high: a warning, shown at the next poll
    row = page.locator(f'tr.alert-row:has([data-role=parameter]:text-is("{parameter}"))')
    row.wait_for()
    alert_id = row.get_attribute("data-alert-id")
    assert row.get_attribute("data-severity") == "warning"
    assert row.locator("[data-role=severity]").inner_text().lower() == "warning"
    assert "above its yellow_high limit 30" in row.locator("[data-role=message]").inner_text()
    page.screenshot(path=str(SCREENSHOTS / "page-alerts-warning.png"), full_page=True)

    # An operator starts a comment; the row the poll brings keeps it (and the focus).
    page.focus(f"#ack-comment-{alert_id}")
    page.keyboard.type("cooling loop checked")
    push(system, parameter, 42.5)  # beyond red_high: the same alert becomes critical
    page.wait_for_selector(f'tr[data-alert-id="{alert_id}"][data-severity="critical"]')
    assert row.locator("[data-role=severity]").inner_text().lower() == "critical"
    assert row.locator("[data-role=value]").inner_text().startswith("value 42.5 beyond red_high 40")
    colour = row.locator("[data-role=severity]").evaluate("e => getComputedStyle(e).color")
    assert colour == "rgb(164, 34, 27)"  # red, with the word Critical beside it
    # The open-alert count in the navigation bar follows (it polls every 5 s).
    page.wait_for_selector('#alert-badge[data-worst="critical"]', timeout=15_000)
    badge = page.locator("#alert-badge")
    open_before = int(badge.get_attribute("data-total"))
    assert open_before >= 1 and badge.get_attribute("href") == "/alerts"
    assert "open (critical)" in " ".join(badge.inner_text().split())
    page.screenshot(path=str(SCREENSHOTS / "page-alerts-critical.png"), full_page=True)

    # Acknowledge from the keyboard: the comment typed before the change, Tab, Enter.
    assert page.input_value(f"#ack-comment-{alert_id}") == "cooling loop checked"
    assert page.evaluate("document.activeElement.id") == f"ack-comment-{alert_id}"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.dataset.action") == "acknowledge"
    page.keyboard.press("Enter")
    page.wait_for_selector("[data-notice=ok]")
    assert f"Acknowledged alert {alert_id}" in page.locator("#notices").inner_text()
    page.wait_for_selector(f'tr[data-alert-id="{alert_id}"]', state="detached")  # not open now
    page.wait_for_selector(f'#alert-badge[data-total="{open_before - 1}"]')  # at once
    page.screenshot(path=str(SCREENSHOTS / "page-alerts-acknowledged-notice.png"), full_page=True)

    assert page.evaluate("window.__no_reload") == 1, "the page was reloaded"
    page.click("#tab-acknowledged")
    acked = page.locator(f'tr[data-alert-id="{alert_id}"]')
    acked.wait_for()
    assert acked.get_attribute("data-state") == "acknowledged"
    facts = acked.locator("[data-role=acknowledged]").inner_text()
    assert f"acknowledged by {users['operator'].username}" in facts
    assert acked.locator("[data-role=comment]").inner_text() == "“cooling loop checked”"
    page.screenshot(path=str(SCREENSHOTS / "page-alerts-acknowledged.png"), full_page=True)

    # A viewer, on a narrow window: the alert and who acknowledged it, and no button at all.
    context = browser.new_context(viewport={"width": 800, "height": 900})
    viewer = context.new_page()
    csp.attach(viewer)
    viewer.set_default_timeout(15_000)
    sign_in(viewer, system, users["viewer"])
    viewer.goto(f"{system.ground_url}/alerts?state=all")
    seen = viewer.locator(f'tr[data-alert-id="{alert_id}"]')
    seen.wait_for()
    assert viewer.locator("#read-only").is_visible()
    assert viewer.locator("[data-action]").count() == 0
    assert viewer.locator("form[method=post][action^='/ui/alerts']").count() == 0
    assert "cooling loop checked" in seen.inner_text()
    # The alerts fit (the top bar is the console frame's, with a long e2e user name).
    assert viewer.evaluate("""() => [...document.querySelectorAll('.alerts-card, .alerts-card *')]
        .every(e => e.getBoundingClientRect().right <= 800)""")
    viewer.screenshot(path=str(SCREENSHOTS / "page-alerts-viewer-800px.png"), full_page=True)
    context.close()
