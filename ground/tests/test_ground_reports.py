"""Reports on both databases: the telecommand history as CSV for a time range (the page's
download and GET /api/reports/telecommands.csv: same rows, injection-safe cells, bounded, bad
ranges refused with a 4xx), and the printable daily summary (commands by outcome, robots'
uptime from their connection events, the alerts section)."""

from __future__ import annotations

import csv
import io
import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from ground import reports
from mission_control import evaluate
from mission_control.models import Telecommand
from mission_control.registry_models import Robot
from mission_control.robot_models import RobotConnectionEvent
from mission_control.status import Status
from mission_control.testing import assert_error, bearer, gen_command, sign_in_client, token_for
from mission_control.timeutil import utcnow

API = "/api/reports/telecommands.csv"
PAGE = "/reports/telecommands.csv"


def at(database, command_id, when: datetime, **values) -> None:
    """Move a command's creation (and set other columns) as if it happened then."""
    with database.transaction() as session:
        session.execute(update(Telecommand).where(Telecommand.id == command_id)
                        .values(created_at=when, **values))


def rows(response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/csv"
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def viewer_api(app, database):
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = bearer(token_for(database, "v", "viewer"))[
        "Authorization"]
    return client


# --- the CSV --------------------------------------------------------------------------------

def test_the_csv_holds_the_commands_of_the_range_oldest_first(app, database, client):
    now = utcnow()
    old = gen_command(database)
    at(database, old, now - timedelta(days=3))
    first, second = gen_command(database), gen_command(database, command_name="REBOOT",
                                                       args={"delay_s": 5})
    at(database, first, now - timedelta(hours=2))
    at(database, second, now - timedelta(hours=1), status=Status.FAILED.value,
       status_reason="no answer")

    response = viewer_api(app, database).get(API)  # default: the last day

    found = rows(response)
    assert [r["id"] for r in found] == [str(first), str(second)]
    assert list(found[0]) == list(reports.COLUMNS)
    assert found[1]["status"] == "FAILED" and found[1]["status_reason"] == "no answer"
    assert found[1]["args"] == '{"delay_s": 5}' and found[1]["target_name"]
    assert "attachment" in response.headers["Content-Disposition"]
    page = rows(client.get(PAGE))
    assert page == found  # the page's download is the same report


def test_since_and_until_bound_the_range_half_open(app, database):
    base = datetime(2026, 1, 10, tzinfo=UTC)
    ids = [gen_command(database) for _ in range(3)]
    for i, command_id in enumerate(ids):
        at(database, command_id, base + timedelta(hours=i))

    response = viewer_api(app, database).get(
        API, query_string={"since": "2026-01-10T01:00:00Z", "until": "2026-01-10T02:00:00Z"})

    assert [r["id"] for r in rows(response)] == [str(ids[1])]


def test_the_csv_is_read_in_pages_without_losing_or_repeating_rows(app, database, monkeypatch):
    monkeypatch.setattr(reports, "CHUNK_ROWS", 3)
    same_time = utcnow() - timedelta(minutes=5)
    ids = [gen_command(database) for _ in range(8)]
    for command_id in ids:
        at(database, command_id, same_time)  # ties are broken by id

    found = [r["id"] for r in rows(viewer_api(app, database).get(API))]

    assert sorted(found) == sorted(str(i) for i in ids) and len(found) == 8


@pytest.mark.parametrize("value", ["=HYPERLINK(\"http://evil\")", "+1+1", "-2+3", "@SUM(A1)",
                                   "\tx", "\r=1"])
def test_cells_a_spreadsheet_would_run_are_prefixed(app, database, value):
    command_id = gen_command(database)
    at(database, command_id, utcnow() - timedelta(minutes=1), status=Status.FAILED.value,
       status_reason=value, operator=value[:100])

    found = rows(viewer_api(app, database).get(API))[0]

    assert found["status_reason"] == "'" + value and found["operator"] == "'" + value[:100]


def test_safe_cells_are_left_alone():
    assert reports.safe_cell("PING") == "PING" and reports.safe_cell("") == ""
    assert reports.safe_cell("a=b") == "a=b"


def test_a_range_holding_too_many_commands_is_refused(make_app, database):
    app = make_app(report_max_rows=2)
    for _ in range(3):
        gen_command(database)

    body = assert_error(viewer_api(app, database).get(API), 422, "too_many_rows")

    assert body["rows"] == 3 and body["limit"] == 2 and "narrow" in body["message"]


@pytest.mark.parametrize("query,field", [
    ({"since": "yesterday"}, "since"),
    ({"until": "2026-01-01"}, "until"),
    ({"since": "2026-01-01T00:00:00"}, "since"),  # no offset: which zone?
    ({"since": "2026-02-30T00:00:00Z"}, "since"),
    ({"since": "2026-01-02T00:00:00Z", "until": "2026-01-01T00:00:00Z"}, "since"),
    ({"since": "2026-01-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"}, "since"),
    ({"since": "\x00"}, "since"),
    ({"since": "9" * 5000}, "since"),
    ({"format": "xlsx"}, "format"),
])
def test_a_bad_range_is_a_422_naming_the_parameter(app, database, query, field):
    body = assert_error(viewer_api(app, database).get(API, query_string=query), 422)
    assert field in {f["field"] for f in body["fields"]}


def test_a_parameter_given_twice_is_refused(app, database):
    response = viewer_api(app, database).get(f"{API}?since=2026-01-01T00:00:00Z"
                                             f"&since=2026-01-02T00:00:00Z")
    assert_error(response, 422)


def test_the_earliest_until_has_a_range_before_it(app, database):
    response = viewer_api(app, database).get(API, query_string={"until": "0001-01-01T00:00:01Z"})
    assert rows(response) == []


def test_the_page_shows_a_bad_range_beside_its_field(client):
    response = client.get(PAGE, query_string={"since": "<b>soon</b>", "until": ""})

    assert response.status_code == 422 and response.mimetype == "text/html"
    assert 'id="csv-since-error"' in response.text and "RFC 3339" in response.text
    assert "<b>soon</b>" not in response.text and "&lt;b&gt;soon&lt;/b&gt;" in response.text


def test_the_page_offers_both_reports_to_a_viewer(app, database):
    client = app.test_client()
    sign_in_client(client, database, "watcher", "viewer")

    html = client.get("/reports").text

    assert 'id="csv-form"' in html and 'id="daily-form"' in html
    assert client.get(PAGE).status_code == 200


# --- the daily summary ------------------------------------------------------------------------

def gen_robot(database, name: str) -> uuid.UUID:
    robot_id = uuid.uuid4()
    with database.transaction() as session:
        session.add(Robot(id=robot_id, name=name, owner="o", owner_email="o@example.com"))
    return robot_id


def events(database, robot_id, *happenings: tuple[str, datetime]) -> None:
    with database.transaction() as session:
        session.add_all(RobotConnectionEvent(robot_id=robot_id, event=event, at=when)
                        for event, when in happenings)


def test_uptime_counts_online_time_inside_the_day_only(database):
    day = datetime(2026, 3, 4, tzinfo=UTC)
    steady = gen_robot(database, "steady")  # online since the day before, all day
    events(database, steady, ("connect", day - timedelta(hours=5)))
    flaky = gen_robot(database, "flaky")
    events(database, flaky, ("connect", day - timedelta(hours=1)),
           ("timeout", day + timedelta(hours=2)),
           ("connect", day + timedelta(hours=10)), ("disconnect", day + timedelta(hours=16)),
           ("connect", day + timedelta(hours=23)), ("connect", day + timedelta(hours=25)))
    gen_robot(database, "never")  # no event at all
    gone = gen_robot(database, "gone")  # went offline before the day: nothing
    events(database, gone, ("connect", day - timedelta(days=2)),
           ("disconnect", day - timedelta(days=1)))

    with database.transaction() as session:
        found = {u.name: u for u in reports.uptimes(session, day, day + timedelta(days=1))}

    assert found["steady"].online_s == 24 * 3600 and found["steady"].percent == 100
    assert found["flaky"].online_s == (2 + 6 + 1) * 3600 and found["flaky"].connects == 2
    assert found["never"].online_s == found["gone"].online_s == 0
    assert list(found) == ["flaky", "gone", "never", "steady"]


def test_the_daily_page_counts_that_days_commands_by_outcome(client, database):
    day = datetime(2026, 3, 4, tzinfo=UTC)
    for status, hours in ((Status.EXECUTED, 1), (Status.EXECUTED, 5), (Status.FAILED, 23.9),
                          (Status.CANCELLED, 24.1)):
        at(database, gen_command(database), day + timedelta(hours=hours), status=status.value)
    robot = gen_robot(database, "R2")
    events(database, robot, ("connect", day + timedelta(hours=6)),
           ("disconnect", day + timedelta(hours=18)))

    response = client.get("/reports/daily?date=2026-03-04")

    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.text
    assert '<tr data-status="EXECUTED"><th scope="row">EXECUTED</th><td class="num" ' \
           'data-count="2">' in html
    assert 'data-status="FAILED"><th scope="row">FAILED</th><td class="num" data-count="1">' in html
    assert 'data-status="CANCELLED"><th scope="row">CANCELLED</th><td class="num" ' \
           'data-count="0">' in html
    assert '<td class="num" id="outcomes-total">3</td>' in html
    assert f'data-robot-id="{robot}" data-online-s="43200"' in html and "50.0 %" in html
    assert 'id="no-alerts"' in html and 'id="previous-day"' in html and 'id="next-day"' in html


def test_today_is_the_default_day_and_counts_until_now(client):
    html = client.get("/reports/daily").text
    assert f'data-date="{utcnow().date().isoformat()}"' in html and "so far" in html
    assert 'id="next-day"' not in html


def test_the_daily_summary_lists_the_alerts_raised_that_day(client, database):
    with database.transaction() as session:  # as the ingest would: the spacecraft too hot
        evaluate.evaluate(session, [{"source": "spacecraft", "parameter": "temperature",
                                     "value": 70.0, "time": utcnow()}])
    html = client.get("/reports/daily").text
    assert 'id="no-alerts"' not in html
    [item] = re.findall(r'<li data-alert-id="[^"]+">(.*?)</li>', html, re.S)
    assert "<strong>critical</strong>" in item and "spacecraft temperature" in item
    assert "70" in item and "(open)" in item


@pytest.mark.parametrize("raw,message", [
    ("2026-13-01", "not a date"), ("26-1-1", "YYYY-MM-DD"), ("20260101", "YYYY-MM-DD"),
    ("9999-12-31", "future"), ("", "YYYY-MM-DD"), ("2026-01-01\x00", "YYYY-MM-DD"),
])
def test_a_bad_day_is_a_422_page_saying_why(client, raw, message):
    response = client.get("/reports/daily", query_string={"date": raw})
    assert response.status_code == 422 and response.mimetype == "text/html"
    assert 'id="daily-date-error"' in response.text and message in response.text


def test_the_first_day_of_the_calendar_has_no_previous_day(client):
    response = client.get("/reports/daily?date=0001-01-01")
    assert response.status_code == 200 and 'id="previous-day"' not in response.text


def test_the_reports_page_downloads_a_sources_telemetry_and_shows_refusals_beside_the_form(
        client):
    now = utcnow().replace(microsecond=0)
    stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    body = {"points": [{"source": "spacecraft", "parameter": "temperature", "value": 20.5,
                        "unit": "degC", "time": (now - timedelta(minutes=5)).isoformat()},
                       {"source": "spacecraft", "parameter": "battery", "value": 80,
                        "time": (now - timedelta(minutes=4)).isoformat()}]}
    assert client.post("/api/telemetry", json=body).status_code == 201
    page = client.get("/reports").text
    assert 'id="telemetry-csv-form"' in page and '<option value="spacecraft"' in page

    since = (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    answer = client.get(f"/reports/telemetry.csv?source=spacecraft&parameter=&since={since}"
                        f"&until={stamp}", follow_redirects=True)  # empty: every parameter
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(answer.get_data(as_text=True))))
    assert [(r[2], r[3]) for r in rows[1:]] == [("temperature", "20.5"), ("battery", "80.0")]

    refused = client.get(f"/reports/telemetry.csv?source=spacecraft&since={stamp}&until={since}")
    assert refused.status_code == 422 and refused.mimetype == "text/html"
    form = refused.text.split('id="telemetry-csv-form"')[1].split("</form>")[0]
    assert 'id="telemetry-csv-error"' in refused.text and "since must be before until" in \
        refused.text.split('id="telemetry-csv-title"')[1].split('id="telemetry-csv-form"')[0]
    assert 'value="' + stamp + '"' in form  # what was asked for stays in the form
