"""Time tags on POST /api/telecommands, and a target's contact windows (GET/PUT
/api/targets/{id}/passes), through the API and the operator page."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from mission_control.models import Telecommand
from mission_control.testing import assert_error, bearer, gen_command, token_for
from mission_control.timeutil import utcnow

HTMX = {"HX-Request": "true"}


def iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def soon(**delta) -> str:
    return iso(utcnow() + timedelta(**delta))


@pytest.fixture
def admin(app, database):
    return bearer(token_for(database, "root", "admin"))


def put_passes(app, headers, windows, target="spacecraft"):
    return app.test_client().put(f"/api/targets/{target}/passes", headers=headers,
                                 json={"passes": [{"start_at": s, "end_at": e}
                                                  for s, e in windows]})


def test_a_time_tagged_command_is_accepted_ready_with_its_times(client):
    not_before, expires_at = soon(minutes=5), soon(minutes=30)
    response = client.post("/api/telecommands", json={
        "command_name": "PING", "not_before": not_before, "expires_at": expires_at})
    assert response.status_code == 201, response.text
    body = response.get_json()
    assert body["status"] == "READY" and body["waiting_for_pass"] is None
    assert datetime.fromisoformat(body["not_before"]) == datetime.fromisoformat(not_before)
    assert datetime.fromisoformat(body["expires_at"]) == datetime.fromisoformat(expires_at)
    cancelled = client.put(f"/api/telecommands/{body['id']}/cancel")
    assert cancelled.status_code == 200 and cancelled.get_json()["status"] == "CANCELLED"


@pytest.mark.parametrize("fields,field", [
    ({"not_before": "2026-12-01T10:00:00"}, "not_before"),  # naive
    ({"not_before": "tomorrow"}, "not_before"),
    ({"not_before": "9999-01-01T00:00:00Z"}, "not_before"),
    ({"not_before": "1900-01-01T00:00:00Z"}, "not_before"),
    ({"not_before": 1767225600}, "not_before"),
    ({"expires_at": "2001-01-01T00:00:00Z"}, "expires_at"),  # already past
    ({"expires_at": "3000-01-01T00:00:00+02:00"}, "expires_at"),
    ({"not_before": "2090-01-01T00:00:00Z", "expires_at": "2090-01-01T00:00:00Z"}, "expires_at"),
    ({"not_before": "2090-01-01T00:00:00Z", "expires_at": "2089-01-01T00:00:00Z"}, "expires_at"),
])
def test_bad_time_tags_are_refused_naming_the_field(client, database, fields, field):
    response = client.post("/api/telecommands", json={"command_name": "PING", **fields})
    body = assert_error(response, 422)
    assert [f["field"] for f in body["fields"]] == [field]
    with database.transaction() as session:
        assert session.scalar(select(Telecommand)) is None


def test_passes_are_replaced_listed_and_show_the_next_one(app, admin):
    past = (soon(hours=-2), soon(hours=-1))
    upcoming = (soon(hours=1), soon(hours=2))
    later = (soon(hours=3), soon(hours=4))
    response = put_passes(app, admin, [later, past, upcoming])
    assert response.status_code == 200, response.text
    listed = app.test_client().get("/api/targets/spacecraft/passes", headers=admin).get_json()
    assert listed == response.get_json()
    starts = [datetime.fromisoformat(p["start_at"]) for p in listed["passes"]]
    assert starts == sorted(starts) and len(starts) == 3
    assert datetime.fromisoformat(listed["next_pass"]["start_at"]) == \
        datetime.fromisoformat(upcoming[0])
    emptied = put_passes(app, admin, [])
    assert emptied.get_json() == {"target": "spacecraft", "passes": [], "next_pass": None}


@pytest.mark.parametrize("windows,field", [
    ([("2090-01-01T02:00:00Z", "2090-01-01T01:00:00Z")], "passes.0.end_at"),
    ([("2090-01-01T01:00:00Z", "2090-01-01T01:00:00Z")], "passes.0.end_at"),
    ([("2090-01-01T01:00:00Z", "2090-01-01T03:00:00Z"),
      ("2090-01-01T02:00:00Z", "2090-01-01T04:00:00Z")], "passes.1.start_at"),
    ([("1999-01-01T01:00:00Z", "2090-01-01T03:00:00Z")], "passes.0.start_at"),
    ([("2090-01-01T01:00:00Z", "2190-01-01T03:00:00Z")], "passes.0.end_at"),
    ([("2090-01-01T01:00:00", "2090-01-01T03:00:00Z")], "passes.0.start_at"),
])
def test_bad_passes_are_refused_naming_the_field(app, admin, windows, field):
    body = assert_error(put_passes(app, admin, windows), 422)
    assert field in [f["field"] for f in body["fields"]]
    assert app.test_client().get("/api/targets/spacecraft/passes",
                                 headers=admin).get_json()["passes"] == []


def test_too_many_passes_or_a_bad_body_are_refused(app, admin):
    start = datetime(2090, 1, 1, tzinfo=UTC)
    many = [(iso(start + timedelta(hours=i)), iso(start + timedelta(hours=i, minutes=30)))
            for i in range(1001)]
    assert_error(put_passes(app, admin, many), 422)
    for body in ([], {"passes": "x"}, {"passes": [{"start_at": "2090-01-01T00:00:00Z"}]},
                 {"passes": [], "extra": 1}):
        assert_error(app.test_client().put("/api/targets/spacecraft/passes", headers=admin,
                                           json=body), 422)


@pytest.mark.parametrize("target", ["nope", "x" * 65, "a%00b", "%E2%80%AE"])
def test_passes_of_an_unknown_target_are_404(app, admin, target):
    assert_error(app.test_client().get(f"/api/targets/{target}/passes", headers=admin), 404)
    assert_error(put_passes(app, admin, [], target=target), 404)


def test_an_operator_may_read_passes_but_not_write_them(app, database):
    operator = bearer(token_for(database, "op", "operator"))
    assert app.test_client().get("/api/targets/spacecraft/passes",
                                 headers=operator).status_code == 200
    assert_error(put_passes(app, operator, []), 403)


def test_a_command_waiting_for_a_pass_says_which(app, admin, client, database):
    start = utcnow() + timedelta(hours=1)
    put_passes(app, admin, [(iso(start), iso(start + timedelta(minutes=10)))])
    body = client.post("/api/telecommands", json={"command_name": "PING"}).get_json()
    assert datetime.fromisoformat(body["waiting_for_pass"]) == start
    listed = client.get("/api/telecommands").get_json()["items"]
    assert listed[0]["waiting_for_pass"] == body["waiting_for_pass"]
    page = client.get("/").text
    assert 'id="passes"' in page and f'data-command-id="{body["id"]}"' in page


def test_the_contact_window_panel_is_polled_and_answers_204_while_unchanged(app, admin, client):
    """The panel is there (empty) before any pass; its poll brings a pass added meanwhile and
    a command waiting for it, then 204 until something changes."""
    page = client.get("/").text
    assert 'id="passes-panel"' in page and 'id="passes"' not in page
    first = re.search(r'id="passes-panel" hx-get="([^"]+)"', page).group(1).replace("&amp;", "&")
    start = utcnow() + timedelta(hours=1)
    put_passes(app, admin, [(iso(start), iso(start + timedelta(minutes=10)))])
    body = client.post("/api/telecommands", json={"command_name": "PING"}).get_json()
    polled = client.get(first, headers={"HX-Request": "true"})
    assert polled.status_code == 200
    assert 'id="passes"' in polled.text and f'data-command-id="{body["id"]}"' in polled.text
    again = re.search(r'hx-get="([^"]+)"', polled.text).group(1).replace("&amp;", "&")
    assert client.get(again, headers={"HX-Request": "true"}).status_code == 204
    signed_out = app.test_client().get(again)  # a page route: to the sign-in page
    assert signed_out.status_code == 303 and "/login" in signed_out.headers["Location"]


def test_new_passes_reschedule_the_targets_waiting_commands(app, admin, database):
    command_id = gen_command(database, due_now=True)
    put_passes(app, admin, [(soon(hours=1), soon(hours=2))])
    with database.transaction() as session:
        command = session.get(Telecommand, command_id)
        assert (command.transmit_at, command.next_step_at) == (None, None)


def test_the_form_sends_a_time_tagged_command(client, database):
    response = client.post("/ui/telecommands", headers=HTMX, data={
        "target": "spacecraft", "command_name": "PING", "not_before": "2090-06-01T12:30"})
    assert response.status_code == 201, response.text
    with database.transaction() as session:
        command = session.scalar(select(Telecommand))
    assert command.not_before == datetime(2090, 6, 1, 12, 30, tzinfo=UTC)
    detail = client.get(f"/telecommands/{command.id}").text
    assert 'id="detail-not-before"' in detail and "2090-06-01 12:30:00" in detail
    refused = client.post("/ui/telecommands", headers=HTMX, data={
        "target": "spacecraft", "command_name": "PING", "not_before": "someday"})
    assert refused.status_code == 422 and 'id="not-before"' in refused.text
    assert "has-error" in refused.text.split('id="not-before"')[0].rsplit("<div", 1)[1]


def test_a_past_not_before_is_accepted_as_now(client):
    response = client.post("/api/telecommands", json={
        "command_name": "PING", "not_before": soon(minutes=-5)})
    assert response.status_code == 201 and response.get_json()["status"] == "READY"
