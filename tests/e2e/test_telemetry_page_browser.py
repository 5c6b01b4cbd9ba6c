"""The Telemetry page in headless Chromium against real processes: ground and the spacecraft
(gunicorn), the spacecraft pushing its state every 0.5 s. The operator sees the temperature
chart gain points without a reload, a temperature pushed above its red limit turns its row red
(in words too) and shows in the chart, the range buttons work from the keyboard, and at
800 px wide nothing scrolls sideways.
"""

from __future__ import annotations

import math
from datetime import timedelta

import pytest
import requests

from mission_control.timeutil import utcnow

from .accounts import Account
from .harness import wait_for
from .test_operator_page_browser import SCREENSHOTS, browser, csp, page, sign_in  # noqa: F401

pytestmark = pytest.mark.browser

CHART = "#telemetry-chart"
POINTS = "() => Number(document.querySelector('#telemetry-chart').dataset.points || 0)"
TEMPERATURE_ROW = 'tr[data-parameter="temperature"]'


def chart_data(page, name: str) -> str | None:
    return page.get_attribute(CHART, f"data-{name}")


def backfill(system) -> None:
    """A temperature a minute over the past day (before the last 15 minutes), as an older
    producer would have sent it."""
    now = utcnow()
    points = [{"source": "spacecraft", "parameter": "temperature", "unit": "degC",
               "value": round(15 + 10 * math.sin(minute / 60), 3),
               "time": (now - timedelta(minutes=minute)).isoformat()}
              for minute in range(16, 24 * 60)]
    response = requests.post(f"{system.ground_url}/api/telemetry", json={"points": points},
                             headers=system.headers(), timeout=30)
    assert response.status_code == 201, response.text


def latest_temperature(system) -> dict | None:
    response = requests.get(f"{system.ground_url}/api/telemetry/latest",
                            params={"source": "spacecraft"}, headers=system.headers("viewer"),
                            timeout=10)
    assert response.status_code == 200, response.text
    return {p["parameter"]: p for p in response.json()["parameters"]}.get("temperature")


# The page's own elements that reach past the window's right edge. (The top bar is the
# console frame's: base.html, checked with the frame.)
WIDER_THAN_THE_WINDOW = """() => [...document.querySelectorAll('main, main *')]
  .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth)
  .map(e => e.tagName + '#' + e.id + '.' + e.className)"""


@pytest.mark.local_only("a short TELEMETRY_INTERVAL_S, and the spacecraft stopped")
def test_the_telemetry_page_charts_live_and_shows_a_red_limit(system_factory, page,
                                                              users: dict[str, Account]):
    system = system_factory(services=("ground", "spacecraft"), telemetry_interval_s=0.5)
    wait_for(lambda: latest_temperature(system), timeout=30,
             message="the spacecraft's first temperature")
    backfill(system)
    sign_in(page, system, users["operator"])
    page.goto(f"{system.ground_url}/telemetry?source=spacecraft")
    page.evaluate("window.__no_reload = 1")

    assert page.locator("#chart-title").inner_text().startswith("temperature")
    page.wait_for_function(f"() => ({POINTS})() > 0")
    assert page.locator(f"{CHART} canvas").count() >= 1
    first_points, first_time = page.evaluate(POINTS), chart_data(page, "last-time")
    page.wait_for_function(
        "([held, at]) => { const d = document.querySelector('#telemetry-chart').dataset;"
        " return Number(d.points) > held && d.lastTime > at; }",
        arg=[first_points, first_time], timeout=15_000)
    assert chart_data(page, "mode") == "raw"
    assert page.locator(f"{TEMPERATURE_ROW} [data-role=limit-state]").inner_text() == "OK"
    assert [li.inner_text() for li in page.locator("#chart-limits li").all()] == [
        "Red high 60 degC", "Yellow high 45 degC", "Yellow low -10 degC", "Red low -20 degC"]
    page.screenshot(path=str(SCREENSHOTS / "page-telemetry-live.png"), full_page=True)

    # The spacecraft stops, so its next push cannot bring the temperature back at once.
    system.stop("spacecraft")
    response = requests.post(f"{system.ground_url}/api/telemetry", headers=system.headers(),
                             timeout=10, json={"points": [{
                                 "source": "spacecraft", "parameter": "temperature",
                                 "value": 75.0, "unit": "degC", "time": utcnow().isoformat()}]})
    assert response.status_code == 201, response.text
    page.wait_for_selector(f'{TEMPERATURE_ROW}[data-limit-state="red"]', timeout=10_000)
    assert page.locator(f"{TEMPERATURE_ROW} [data-role=limit-state]").inner_text() == "Red"
    assert page.locator(f"{TEMPERATURE_ROW} .value-cell").inner_text() == "75"
    page.wait_for_function("() => document.querySelector('#telemetry-chart')"
                           ".dataset.lastValue === '75'", timeout=10_000)
    page.screenshot(path=str(SCREENSHOTS / "page-telemetry-red.png"), full_page=True)

    day = page.locator('.range-button[data-range-s="86400"]')
    day.focus()
    page.keyboard.press("Enter")
    assert day.get_attribute("aria-pressed") == "true"
    assert page.locator('.range-button[data-range-s="900"]').get_attribute("aria-pressed") \
        == "false"
    page.wait_for_function("() => document.querySelector('#telemetry-chart').dataset.mode"
                           " === 'buckets'")  # a day of minutes: more than the chart's width
    assert "(avg line, min-max band)" in page.locator("#chart-status").inner_text()
    page.screenshot(path=str(SCREENSHOTS / "page-telemetry-24h.png"), full_page=True)

    page.set_viewport_size({"width": 800, "height": 900})
    page.wait_for_timeout(500)  # the chart follows its box (ResizeObserver)
    assert page.evaluate(WIDER_THAN_THE_WINDOW) == [], "the page scrolls sideways at 800 px"
    page.screenshot(path=str(SCREENSHOTS / "page-telemetry-800.png"), full_page=True)
    assert page.evaluate("window.__no_reload") == 1, "the page was reloaded"

    page.click('tr[data-parameter="battery"] a[data-action=chart]')
    page.wait_for_url(f"{system.ground_url}/telemetry?source=spacecraft&parameter=battery")
    assert page.locator("#chart-title").inner_text().startswith("battery")
