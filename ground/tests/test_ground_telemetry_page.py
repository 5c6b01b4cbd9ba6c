"""The Telemetry page (/telemetry), its polled latest-values fragment and the chart's series,
on both databases. Points go in through POST /api/telemetry, as producers send them;
``client`` is an operator with a page session (this folder's conftest)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from mission_control.models import Target
from mission_control.testing import assert_error, bearer, sign_in_client, token_for
from mission_control.timeutil import utcnow

HTMX = {"HX-Request": "true"}


def push(client, *points: tuple[str, str, float], unit: str | None = None, ago_s: float = 0):
    """Post points (source, parameter, value), stamped ``ago_s`` seconds ago."""
    at = (utcnow() - timedelta(seconds=ago_s)).isoformat()
    response = client.post("/api/telemetry", json={"points": [
        {"source": s, "parameter": p, "value": v, "time": at, **({"unit": unit} if unit else {})}
        for s, p, v in points]})
    assert response.status_code == 201, response.text


def rows(html: str) -> dict[str, tuple[str, str]]:
    """parameter -> (limit state, the state's label) of each latest-values row."""
    found = re.findall(r'<tr class="telemetry-row[^"]*" data-parameter="([^"]+)" '
                       r'data-limit-state="([^"]+)">.*?data-role="limit-state">([^<]+)<',
                       html, re.S)
    return {parameter: (state, label) for parameter, state, label in found}


def version(html: str) -> str:
    return re.search(r'id="telemetry-body"[^>]*data-version="([^"]+)"', html, re.S).group(1)


@pytest.mark.parametrize("role", ["viewer", "operator", "admin"])
def test_every_signed_in_role_sees_the_page(app, database, role):
    browser = app.test_client()
    sign_in_client(browser, database, f"{role}-1", role)
    page = browser.get("/telemetry")
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert 'id="telemetry-latest"' in page.text and 'id="source-select"' in page.text
    assert "vendor/uPlot.iife.min.js" in page.text and "telemetry.js" in page.text


def test_an_anonymous_browser_goes_to_login_and_the_chart_data_needs_a_session(anonymous):
    page = anonymous.get("/telemetry?source=spacecraft")
    assert page.status_code == 303
    assert page.headers["Location"] == "/login?next=/telemetry?source%3Dspacecraft"
    fragment = anonymous.get("/ui/telemetry/latest?source=spacecraft", headers=HTMX)
    assert fragment.status_code == 401 and fragment.headers["HX-Redirect"].startswith("/login")
    series = anonymous.get("/ui/telemetry/series?source=spacecraft&parameter=temperature")
    assert series.status_code == 303


def test_the_latest_table_colours_each_parameter_by_its_limit_state_in_words_too(
        client, app, database):
    admin = bearer(token_for(database, "alice", "admin"))
    limit = {"source": "spacecraft", "parameter": "pressure", "yellow_high": 2.0, "red_high": 3.0}
    assert app.test_client().put("/api/limits", json=limit, headers=admin).status_code == 200
    # Spacecraft defaults: temperature yellow above 45, battery red below 15; heater: none.
    push(client, ("spacecraft", "temperature", 50.0), ("spacecraft", "battery", 10.0),
         ("spacecraft", "heater", 1.0), ("spacecraft", "pressure", 1.0))

    html = client.get("/telemetry?source=spacecraft").text
    assert rows(html) == {"battery": ("red", "Red"), "heater": ("none", "No limits"),
                          "pressure": ("ok", "OK"), "temperature": ("yellow", "Yellow")}
    assert re.search(r'<tr class="telemetry-row limit-yellow" data-parameter="temperature"', html)
    assert '<a href="/telemetry?source=spacecraft&amp;parameter=battery" data-action="chart">' \
           'battery</a>' in html

    held = version(html)
    assert client.get(f"/ui/telemetry/latest?source=spacecraft&since={held}",
                      headers=HTMX).status_code == 204
    push(client, ("spacecraft", "temperature", 75.0))  # beyond red (60)
    changed = client.get(f"/ui/telemetry/latest?source=spacecraft&since={held}", headers=HTMX)
    assert changed.status_code == 200
    assert rows(changed.text)["temperature"] == ("red", "Red")
    assert version(changed.text) != held
    assert client.get(f"/ui/telemetry/latest?source=spacecraft&since={version(changed.text)}",
                      headers=HTMX).status_code == 204


def test_the_source_picker_lists_the_spacecraft_first_then_sources_with_points_by_name(
        client, database):
    with database.transaction() as session:
        session.add_all([Target(id="r-1", kind="robot", name="Zeta rover"),
                         Target(id="r-2", kind="robot", name="Silent rover")])
    push(client, ("r-1", "battery", 80.0), ("weather-mast", "wind", 3.5))

    html = client.get("/telemetry").text
    options = re.findall(r'<option value="([^"]+)"\s*(selected)?>([^<]+)</option>', html)
    assert [(value, label) for value, _, label in options] == [
        ("spacecraft", "Spacecraft"), ("weather-mast", "weather-mast"), ("r-1", "Zeta rover")]
    assert [value for value, selected, _ in options if selected] == ["spacecraft"]
    robot = client.get("/telemetry?source=r-1").text
    assert '<span id="source-label">Zeta rover</span>' in robot
    assert rows(robot) == {"battery": ("ok", "OK")}  # robots' default: yellow below 20


def test_the_chart_shows_temperature_first_or_the_parameter_asked_for(client):
    push(client, ("spacecraft", "attitude", 1.0), ("spacecraft", "temperature", 20.0),
         unit="degC")

    def charted(query: str) -> str:
        html = client.get(f"/telemetry{query}").text
        return re.search(r'id="telemetry-chart".*?data-parameter="([^"]+)"', html, re.S).group(1)

    assert charted("") == "temperature"
    assert charted("?parameter=attitude") == "attitude"
    assert charted("?parameter=no-such-thing") == "temperature"
    assert 'data-unit="degC"' in client.get("/telemetry").text


def test_a_source_without_points_says_so_and_a_bad_source_falls_back_to_the_spacecraft(client):
    empty = client.get("/telemetry?source=nobody-here").text
    assert 'id="telemetry-empty"' in empty and 'id="chart-empty"' in empty
    assert 'id="telemetry-chart"' not in empty
    for bad in ("%00", "x" * 65, "%20"):
        page = client.get(f"/telemetry?source={bad}")
        assert page.status_code == 200
        assert '<span id="source-label">Spacecraft</span>' in page.text


def test_names_in_telemetry_show_as_text_not_html(client):
    push(client, ("spacecraft", "<b>bold</b>", 1.0), unit="<i>")
    html = client.get("/telemetry").text
    assert "<b>bold</b>" not in html and "&lt;b&gt;bold&lt;/b&gt;" in html
    assert "<i>" not in html


def test_the_chart_series_carries_the_points_and_the_limits_that_apply(client):
    push(client, ("spacecraft", "temperature", 21.5), ago_s=60)
    push(client, ("spacecraft", "heater", 1.0), ago_s=60)
    since = (utcnow() - timedelta(minutes=15)).isoformat()
    body = client.get("/ui/telemetry/series", query_string={
        "source": "spacecraft", "parameter": "temperature", "since": since}).get_json()
    assert body["mode"] == "raw" and [p["value"] for p in body["points"]] == [21.5]
    assert body["limits"] == {"source": "default", "parameter": "temperature",
                              "yellow_low": -10.0, "yellow_high": 45.0, "red_low": -20.0,
                              "red_high": 60.0, "persistence": 1}
    heater = client.get("/ui/telemetry/series", query_string={
        "source": "spacecraft", "parameter": "heater", "since": since}).get_json()
    assert heater["limits"] is None and len(heater["points"]) == 1


@pytest.mark.parametrize("query", [
    "", "source=spacecraft", "source=spacecraft&parameter=temperature&max_points=5",
    "source=spacecraft&parameter=temperature&since=yesterday",
    "source=spacecraft&parameter=temperature&since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z",
    "source=spacecraft&parameter=temperature&extra=1",
    "source=spacecraft&source=x&parameter=temperature",
])
def test_bad_chart_queries_get_a_json_422(client, query):
    assert_error(client.get(f"/ui/telemetry/series?{query}"), 422)


@pytest.mark.parametrize("query", ["", "source=%00", "source=spacecraft&extra=1"])
def test_a_bad_poll_of_the_latest_values_gets_a_json_422(client, query):
    assert_error(client.get(f"/ui/telemetry/latest?{query}", headers=HTMX), 422)
