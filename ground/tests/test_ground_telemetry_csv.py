"""GET /api/telemetry.csv (and the page's /ui/telemetry.csv), on both databases: raw points
in time order, text cells safe from spreadsheet formulas, a bounded window and row count."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from ground import telemetry_csv
from mission_control.testing import assert_error, bearer, sign_in_client, token_for

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
WINDOW = {"since": "2026-11-20T09:00:00Z", "until": "2026-11-20T11:00:00Z"}


def push(client, *points: tuple[str, str, float, str | None, int]) -> None:
    """Post points (source, parameter, value, unit, seconds after T0)."""
    response = client.post("/api/telemetry", json={"points": [
        {"source": s, "parameter": p, "value": v, "unit": u,
         "time": (T0 + timedelta(seconds=at)).isoformat()} for s, p, v, u, at in points]})
    assert response.status_code == 201, response.text


def table(response) -> list[list[str]]:
    assert response.status_code == 200, response.text
    assert response.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(response.text)))


def test_the_csv_holds_a_sources_raw_points_in_time_order(client):
    push(client, ("spacecraft", "temperature", 20.5, "degC", 20),
         ("spacecraft", "battery", 97.25, "%", 10), ("spacecraft", "temperature", 19.0, "degC", 0),
         ("spacecraft", "battery", 97.0, "%", 20), ("other", "temperature", 1.0, None, 5),
         ("spacecraft", "temperature", 5.0, "degC", 7200))  # after the window
    response = client.get("/api/telemetry.csv", query_string={"source": "spacecraft", **WINDOW})
    assert table(response) == [
        ["time", "source", "parameter", "value", "unit"],
        ["2026-11-20T10:00:00+00:00", "spacecraft", "temperature", "19.0", "degC"],
        ["2026-11-20T10:00:10+00:00", "spacecraft", "battery", "97.25", "%"],
        ["2026-11-20T10:00:20+00:00", "spacecraft", "battery", "97.0", "%"],
        ["2026-11-20T10:00:20+00:00", "spacecraft", "temperature", "20.5", "degC"],
    ]
    assert response.headers["Content-Disposition"] == \
        'attachment; filename="telemetry-spacecraft-20261120T090000Z.csv"'
    one = client.get("/api/telemetry.csv", query_string={"source": "spacecraft",
                                                          "parameter": "battery", **WINDOW})
    assert [row[2:4] for row in table(one)[1:]] == [["battery", "97.25"], ["battery", "97.0"]]


def test_an_empty_window_gives_the_header_alone(client):
    response = client.get("/api/telemetry.csv", query_string={"source": "nobody", **WINDOW})
    assert response.text == "time,source,parameter,value,unit\r\n"


def test_text_cells_that_a_spreadsheet_would_run_as_formulas_are_prefixed(client):
    push(client, ("=HYPERLINK(\"http://x\")", "+SUM(A1)", -3.5, "@u", 0),
         ("=HYPERLINK(\"http://x\")", "-p", 1e300, "ok", 1))
    response = client.get("/api/telemetry.csv",
                          query_string={"source": "=HYPERLINK(\"http://x\")", **WINDOW})
    rows = table(response)[1:]
    assert rows == [
        ["2026-11-20T10:00:00+00:00", "'=HYPERLINK(\"http://x\")", "'+SUM(A1)", "-3.5", "'@u"],
        ["2026-11-20T10:00:01+00:00", "'=HYPERLINK(\"http://x\")", "'-p", "1e+300", "ok"],
    ]
    assert telemetry_csv.telemetry_export.safe_cell("\tx") == "'\tx"
    assert telemetry_csv.telemetry_export.safe_cell("\r=1") == "'\r=1"
    # The file name keeps none of it.
    assert response.headers["Content-Disposition"] == \
        'attachment; filename="telemetry-_HYPERLINK_http_x_-20261120T090000Z.csv"'


def test_a_window_holding_more_than_the_row_cap_is_refused_before_any_byte(client, monkeypatch):
    push(client, *[("spacecraft", "temperature", float(i), None, i) for i in range(4)])
    monkeypatch.setattr(telemetry_csv, "CSV_MAX_ROWS", 4)
    assert len(table(client.get("/api/telemetry.csv",
                                query_string={"source": "spacecraft", **WINDOW}))) == 5
    monkeypatch.setattr(telemetry_csv, "CSV_MAX_ROWS", 3)
    body = assert_error(client.get("/api/telemetry.csv",
                                   query_string={"source": "spacecraft", **WINDOW}),
                        422, "too_many_points")
    assert body["limit"] == 3


@pytest.mark.parametrize("query", [
    {}, {"parameter": "temperature"},
    {"source": "spacecraft", "since": "2026-10-01T00:00:00Z", "until": "2026-11-02T00:00:00Z"},
    {"source": "spacecraft", "since": "2026-11-02T00:00:00Z", "until": "2026-11-01T00:00:00Z"},
    {"source": "spacecraft", "since": "1700000000"},
    {"source": "spacecraft", "until": "2026-11-02T00:00:00"},  # no timezone
    {"source": "spacecraft", "since": "9999-12-31T23:59:59-23:59"},
    {"source": "spacecraft", "format": "xlsx"},
    {"source": "x" * 65}, {"source": "a\u0000b"}, {"source": ""},
    {"source": "spacecraft", "parameter": ""},
])
def test_bad_parameters_get_a_json_422(client, query):
    assert_error(client.get("/api/telemetry.csv", query_string=query), 422)


def test_a_parameter_given_twice_is_refused(client):
    assert_error(client.get("/api/telemetry.csv?source=a&source=b"), 422)


def test_31_days_is_the_widest_window(client):
    response = client.get("/api/telemetry.csv", query_string={
        "source": "spacecraft", "since": "2026-10-01T00:00:00Z", "until": "2026-11-01T00:00:00Z"})
    assert table(response) == [["time", "source", "parameter", "value", "unit"]]


def test_a_viewer_may_download_and_nobody_else_without_signing_in(app, database, anonymous):
    viewer = bearer(token_for(database, "vic", "viewer"))
    assert app.test_client().get("/api/telemetry.csv?source=spacecraft",
                                 headers=viewer).status_code == 200
    assert_error(anonymous.get("/api/telemetry.csv?source=spacecraft"), 401, "unauthorized")


def test_the_page_offers_the_same_file_under_its_session(app, database, client):
    push(client, ("spacecraft", "battery", 50.0, "%", 0))
    browser = app.test_client()
    sign_in_client(browser, database, "vic", "viewer")
    del browser.environ_base["HTTP_AUTHORIZATION"]  # the page's cookie alone
    rows = table(browser.get("/ui/telemetry.csv", query_string={"source": "spacecraft", **WINDOW}))
    assert rows[1] == ["2026-11-20T10:00:00+00:00", "spacecraft", "battery", "50.0", "%"]
    page = browser.get("/telemetry").text
    assert 'href="/ui/telemetry.csv?source=spacecraft"' in page
