"""ground's limits and alerts API on both databases: limits written and validated, alerts
listed, acknowledged, resolved and shelved with who and when, roles, bad input, the gauge."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from mission_control.alert_models import Alert, Limit
from mission_control.metrics_testing import figure
from mission_control.testing import assert_error, bearer, gen_alert, token_for

LIMIT = {"source": "spacecraft", "parameter": "temperature", "yellow_low": -5.0,
         "yellow_high": 40.0, "red_low": -15.0, "red_high": 55.0, "persistence": 2}


@pytest.fixture
def admin(database):
    return bearer(token_for(database, "alice", "admin"))


@pytest.fixture
def viewer(database):
    return bearer(token_for(database, "vera", "viewer"))


def limit_rows(database) -> int:
    with database.transaction() as session:
        return session.scalar(select(func.count()).select_from(Limit))


def test_limits_list_the_built_in_defaults_until_some_are_stored(client, app, admin):
    body = client.get("/api/limits").get_json()
    assert body["items"] == []
    defaults = {(d["source"], d["parameter"]) for d in body["defaults"]}
    assert {("kind:spacecraft", "temperature"), ("kind:spacecraft", "battery"),
            ("kind:robot", "battery"), ("kind:robot", "temperature"),
            ("kind:robot", "cpu")} <= defaults
    response = app.test_client().put("/api/limits", json=LIMIT, headers=admin)
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"items": [LIMIT]}
    assert client.get("/api/limits").get_json()["items"] == [LIMIT]


def test_put_limits_takes_a_list_and_replaces_rows(app, admin, database):
    other = {"source": "*", "parameter": "pressure", "yellow_high": 3}
    first = app.test_client().put("/api/limits", json=[LIMIT, other], headers=admin)
    assert first.status_code == 200 and len(first.get_json()["items"]) == 2
    changed = app.test_client().put("/api/limits", json={**other, "yellow_high": 4},
                                    headers=admin)
    assert changed.get_json()["items"][0]["yellow_high"] == 4.0
    assert limit_rows(database) == 2


@pytest.mark.parametrize("body,field", [
    ({**LIMIT, "yellow_low": 50.0}, "yellow_high"),
    ({**LIMIT, "red_high": 30.0}, "red_high"),
    ({**LIMIT, "red_low": 0.0}, "yellow_low"),
    ({**LIMIT, "persistence": 0}, "persistence"),
    ({**LIMIT, "persistence": 1.5}, "persistence"),
    ({**LIMIT, "yellow_high": "40"}, "yellow_high"),
    ({**LIMIT, "yellow_high": True}, "yellow_high"),
    ({**LIMIT, "yellow_high": 1e13}, "yellow_high"),
    ({**LIMIT, "source": ""}, "source"),
    ({**LIMIT, "source": "a\x00b"}, "source"),
    ({**LIMIT, "parameter": "p" * 65}, "parameter"),
    ({**LIMIT, "colour": "blue"}, "colour"),
    ({"parameter": "x"}, "source"),
    ([LIMIT, LIMIT], "1.parameter"),
    ([], "body"),
    ([LIMIT] * 101, "body"),
    ("limits", "body"),
    ([LIMIT, 3], "1"),
])
def test_bad_limits_are_refused_and_write_nothing(app, admin, database, body, field):
    answer = assert_error(app.test_client().put("/api/limits", json=body, headers=admin), 422)
    assert field in {f["field"] for f in answer["fields"]}, answer
    assert limit_rows(database) == 0


@pytest.mark.parametrize("raw,status", [
    ('{"source": "a", "parameter": "b", "yellow_high": NaN}', 422),
    ('{"source": "a", "parameter": "b", "yellow_high": Infinity}', 422),
    ('{"source": "a", "parameter": "b", "yellow_high": 1e400}', 422),
    ('{"source": "a", "parameter": "b", "yellow_high": ' + "9" * 400 + "}", 422),
    ('{"source": "a", "source": "b", "parameter": "b"}', 400),
    ('{"source": "a", ', 400),
])
def test_non_finite_numbers_and_malformed_json_are_refused(app, admin, database, raw, status):
    response = app.test_client().put("/api/limits", data=raw, headers=admin,
                                     content_type="application/json")
    assert_error(response, status)
    assert limit_rows(database) == 0


def test_only_an_admin_writes_limits(app, client, viewer, database):
    assert_error(client.put("/api/limits", json=LIMIT), 403)  # operator
    assert_error(app.test_client().put("/api/limits", json=LIMIT, headers=viewer), 403)
    assert_error(app.test_client().put("/api/limits", json=LIMIT), 401)
    assert limit_rows(database) == 0


def test_alerts_are_listed_and_filtered(client, database):
    warning = gen_alert(database, value=50.0)
    critical = gen_alert(database, source="robot-x", parameter="load", value=1.0)  # no limits
    assert critical is None
    critical = gen_alert(database, parameter="battery", value=5.0)
    page = client.get("/api/alerts?state=open").get_json()
    assert [a["id"] for a in page["items"]] == [critical, warning] and page["total"] == 2
    only = client.get("/api/alerts?severity=critical").get_json()["items"]
    assert [(a["id"], a["limit_crossed"], a["value"]) for a in only] == \
        [(critical, "red_low", 5.0)]
    assert client.get(f"/api/alerts/{warning}").get_json()["severity"] == "warning"
    assert client.get("/api/alerts?state=resolved").get_json()["total"] == 0


def test_acknowledge_records_who_when_and_comment_and_twice_is_harmless(client, app, database):
    alert_id = gen_alert(database)
    first = client.post(f"/api/alerts/{alert_id}/acknowledge", json={"comment": "on it"})
    assert first.status_code == 200
    body = first.get_json()
    assert (body["state"], body["acknowledged_by"], body["comment"]) == \
        ("acknowledged", "operator", "on it")
    assert body["acknowledged_at"]
    other = bearer(token_for(database, "otto", "operator"))
    again = app.test_client().post(f"/api/alerts/{alert_id}/acknowledge", headers=other)
    assert again.status_code == 200
    assert (again.get_json()["acknowledged_by"], again.get_json()["acknowledged_at"]) == \
        ("operator", body["acknowledged_at"])


def test_resolve_and_shelve(client, database):
    resolved_id, shelved_id = gen_alert(database), gen_alert(database, parameter="battery",
                                                             value=20.0)
    resolved = client.post(f"/api/alerts/{resolved_id}/resolve").get_json()
    assert (resolved["state"], resolved["resolved_by"]) == ("resolved", "operator")
    assert resolved["resolved_at"]
    assert_error(client.post(f"/api/alerts/{resolved_id}/shelve", json={"duration_s": 60}),
                 409, "not_shelvable")
    shelved = client.post(f"/api/alerts/{shelved_id}/shelve", json={"duration_s": 600})
    assert shelved.status_code == 200
    assert (shelved.get_json()["shelved"], shelved.get_json()["shelved_by"]) == \
        (True, "operator")
    assert client.get("/api/alerts?state=open").get_json()["total"] == 0
    assert [a["id"] for a in client.get("/api/alerts?state=shelved").get_json()["items"]] == \
        [shelved_id]


def test_a_viewer_reads_but_cannot_act_and_nobody_is_let_in(app, viewer, database):
    alert_id = gen_alert(database)
    reader = app.test_client()
    assert reader.get("/api/alerts", headers=viewer).status_code == 200
    for action, body in (("acknowledge", None), ("resolve", None),
                         ("shelve", {"duration_s": 60})):
        assert_error(reader.post(f"/api/alerts/{alert_id}/{action}", json=body,
                                 headers=viewer), 403)
        assert_error(reader.post(f"/api/alerts/{alert_id}/{action}", json=body), 401)
    assert_error(reader.get("/api/alerts"), 401)
    with database.transaction() as session:
        assert session.get(Alert, alert_id).state == "open"


@pytest.mark.parametrize("alert_id", ["abc", "0x1", "-1", "9" * 30, "9223372036854775808",
                                      "１２", "999999"])
def test_unknown_or_malformed_alert_ids_are_404(client, alert_id):
    assert_error(client.get(f"/api/alerts/{alert_id}"), 404)
    assert_error(client.post(f"/api/alerts/{alert_id}/acknowledge"), 404)
    assert_error(client.post(f"/api/alerts/{alert_id}/resolve"), 404)


@pytest.mark.parametrize("body", [{}, {"duration_s": 0}, {"duration_s": -5},
                                  {"duration_s": "60"}, {"duration_s": 1e9},
                                  {"duration_s": 60, "extra": 1}, [60]])
def test_bad_shelve_bodies_are_refused(client, database, body):
    alert_id = gen_alert(database)
    assert_error(client.post(f"/api/alerts/{alert_id}/shelve", json=body), 422)
    with database.transaction() as session:
        assert session.get(Alert, alert_id).shelved_until is None


@pytest.mark.parametrize("query", ["state=closed", "severity=loud", "limit=0", "offset=-1",
                                   "state=open&state=resolved", "limit=99999999999999999999"])
def test_bad_alert_queries_are_refused(client, query):
    assert_error(client.get(f"/api/alerts?{query}"), 422)


def test_a_bad_acknowledgement_body_is_refused(client, database):
    alert_id = gen_alert(database)
    for body in ({"comment": "a\x07b"}, {"comment": 5}, {"comment": "x" * 1001}):
        assert_error(client.post(f"/api/alerts/{alert_id}/acknowledge", json=body), 422)
    assert_error(client.post(f"/api/alerts/{alert_id}/acknowledge", data="{",
                             content_type="application/json"), 400)
    assert_error(client.post(f"/api/alerts/{alert_id}/acknowledge", data="x",
                             content_type="text/plain"), 415)
    with database.transaction() as session:
        assert session.get(Alert, alert_id).state == "open"


def test_open_alerts_by_severity_are_a_gauge(client, anonymous, database):
    gen_alert(database)
    gen_alert(database, parameter="battery", value=5.0)
    acknowledged = gen_alert(database, source="robot-y", parameter="pressure", value=1.0)
    assert acknowledged is None  # no limits for it: nothing opened
    page = anonymous.get("/metrics").get_data(as_text=True)
    assert figure(page, "mc_alerts_open", severity="warning") == 1
    assert figure(page, "mc_alerts_open", severity="critical") == 1
    assert figure(page, "mc_alerts_open", severity="info") == 0
