"""The Alerts page (/alerts, its polled fragment, its forms), the open-alert badge and
``alerts.alerts_raised`` on both databases: severity in colour and in words, who did what and
when, viewers kept to reading, bad ids and form values answered 4xx.

``client`` is an operator signed in with a session (its CSRF token goes with every request, as
app.js sends it); alerts are opened by evaluating samples (``gen_alert``), as ingest will.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from mission_control import alerts
from mission_control.alert_models import Alert
from mission_control.models import Target
from mission_control.testing import gen_alert, sign_in_client, token_for
from mission_control.timeutil import utcnow

HTMX = {"HX-Request": "true"}


def rows(html: str) -> list[tuple[int, str, str]]:
    """(alert id, severity, state) of each alert row, in page order."""
    return [(int(i), s, t) for i, s, t in re.findall(
        r'<tr id="alert-\d+"[^>]*data-alert-id="(\d+)"\s+data-severity="([^"]+)" '
        r'data-state="([^"]+)"', html)]


def row_of(html: str, alert_id: int) -> str:
    match = re.search(rf'<tr id="alert-{alert_id}".*?</tr>', html, re.S)
    assert match, f"no row for alert {alert_id}"
    return match.group(0)


def stored(database, alert_id: int) -> Alert:
    with database.transaction() as session:
        return session.get(Alert, alert_id)


@pytest.fixture
def viewer(app, database):
    reader = app.test_client()
    sign_in_client(reader, database, "vera", "viewer")
    return reader


@pytest.fixture
def three(database) -> dict[str, int]:
    """A warning, a critical and an info alert on the spacecraft and a named robot."""
    with database.transaction() as session:
        session.add(Target(id="rover-1", kind="robot", name="Rover One"))
    warning = gen_alert(database, value=50.0)  # temperature above yellow_high 45
    critical = gen_alert(database, source="rover-1", parameter="battery", value=5.0)
    with database.transaction() as session:
        alerts.raise_alerts(session, [alerts.Raise("rover-1", "connection", "limit", "info",
                                                   "rover-1 note", utcnow())])
        info = alerts.active(session, [("rover-1", "connection")])[("rover-1", "connection")].id
    return {"warning": warning, "critical": critical, "info": info}


def test_the_page_lists_alerts_worst_first_with_colour_and_words(client, three):
    response = client.get("/alerts")
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.text
    assert rows(html) == [(three["critical"], "critical", "open"),
                          (three["warning"], "warning", "open"), (three["info"], "info", "open")]
    for severity, label in (("critical", "Critical"), ("warning", "Warning"), ("info", "Info")):
        row = row_of(html, three[severity])
        assert f'<span class="sev sev-{severity}" data-role="severity">{label}</span>' in row
        assert f"sev-row-{severity}" in row
    critical = row_of(html, three["critical"])
    assert 'data-role="source" title="rover-1">Rover One<' in critical  # the target's name
    assert 'data-role="parameter">battery<' in critical
    assert re.search(r'value <b class="mono">5</b> beyond <span class="mono" '
                     r'data-role="limit">red_low 10</span>', critical)
    assert "rover-1 battery 5 is below its red_low limit 10" in critical
    assert "opened <time datetime=" in critical and ">not cleared<" in critical
    assert 'data-action="acknowledge"' in critical and 'data-action="resolve"' in critical
    assert 'data-action="shelve"' in critical
    assert re.findall(r'<option value="(\d+)">([^<]+)</option>', critical) == \
        [("900", "15 min"), ("3600", "1 h"), ("28800", "8 h")]
    assert 'name="csrf_token" value="' in critical
    warning = row_of(html, three["warning"])
    assert 'title="spacecraft">' in warning and "above its yellow_high limit 45" in warning
    assert 'id="alerts-body"' in html and 'hx-trigger="every 2s, alerts-changed from:body"' in html


def test_tabs_and_severity_filter_the_list(client, database, three):
    client.post(f"/ui/alerts/{three['warning']}/resolve", headers=HTMX)
    client.post(f"/ui/alerts/{three['info']}/shelve", data={"duration": "900"}, headers=HTMX)
    assert [r[0] for r in rows(client.get("/alerts").text)] == [three["critical"]]
    assert rows(client.get("/alerts?state=resolved").text) == \
        [(three["warning"], "warning", "resolved")]
    assert rows(client.get("/alerts?state=shelved").text) == [(three["info"], "info", "shelved")]
    assert len(rows(client.get("/alerts?state=all").text)) == 3
    assert rows(client.get("/alerts?state=all&severity=warning").text) == \
        [(three["warning"], "warning", "resolved")]
    html = client.get("/alerts?state=acknowledged").text
    assert rows(html) == [] and 'id="alerts-empty"' in html
    assert 'id="tab-acknowledged" class="alert-tab" aria-current="true"' in html


@pytest.mark.parametrize("query", ["state=closed", "severity=loud", "state=%00", "state=" + "x" * 5000,
                                   "severity=%F0%9F%92%A5", "state=open&state=resolved", "since=%FF"])
def test_odd_query_strings_fall_back_to_the_default_view(client, three, query):
    for path in ("/alerts", "/ui/alerts"):
        response = client.get(f"{path}?{query}", headers=HTMX if path != "/alerts" else {})
        assert response.status_code == 200
        assert {r[2] for r in rows(response.text)} <= {"open"}


def test_the_fragment_answers_204_while_nothing_changed(client, database, three):
    first = client.get("/ui/alerts", headers=HTMX)
    assert first.status_code == 200 and first.text.lstrip().startswith('<tbody id="alerts-body"')
    version = re.search(r'data-version="([^"]+)"', first.text).group(1)
    assert client.get(f"/ui/alerts?since={version}", headers=HTMX).status_code == 204
    gen_alert(database, parameter="battery", value=5.0)  # a new alert: the list changed
    changed = client.get(f"/ui/alerts?since={version}", headers=HTMX)
    assert changed.status_code == 200 and len(rows(changed.text)) == 4


def test_an_operator_acknowledges_with_a_comment_resolves_and_shelves(client, database, three):
    acked = client.post(f"/ui/alerts/{three['critical']}/acknowledge",
                        data={"comment": "  swapping the battery  "}, headers=HTMX)
    assert acked.status_code == 200 and acked.headers["HX-Trigger"] == "alerts-changed"
    assert rows(acked.text) == [(three["critical"], "critical", "acknowledged")]
    assert 'acknowledged by <b>operator</b> <time' in acked.text
    assert "“swapping the battery”" in acked.text
    assert f"Acknowledged alert {three['critical']}; it is acknowledged now." in acked.text
    assert 'data-action="acknowledge"' not in acked.text and 'data-action="resolve"' in acked.text
    alert = stored(database, three["critical"])
    assert (alert.state, alert.acknowledged_by, alert.ack_comment) == \
        ("acknowledged", "operator", "swapping the battery")
    assert utcnow() - alert.acknowledged_at < timedelta(minutes=1)

    resolved = client.post(f"/ui/alerts/{three['warning']}/resolve", headers=HTMX)
    assert resolved.status_code == 200
    assert 'resolved by <b>operator</b>' in resolved.text and 'data-action=' not in resolved.text
    assert (stored(database, three["warning"]).state,
            stored(database, three["warning"]).resolved_by) == ("resolved", "operator")

    shelved = client.post(f"/ui/alerts/{three['info']}/shelve", data={"duration": "3600"},
                          headers=HTMX)
    assert shelved.status_code == 200 and 'data-state="shelved"' in shelved.text
    assert "shelved by <b>operator</b> until" in shelved.text
    assert f"Shelved alert {three['info']} for 1 h; it is shelved now." in shelved.text
    alert = stored(database, three["info"])
    assert alert.shelved_by == "operator"
    assert timedelta(minutes=59) < alert.shelved_until - utcnow() <= timedelta(hours=1)


def test_without_javascript_a_form_post_goes_back_to_the_same_view(client, database, three):
    response = client.post(f"/ui/alerts/{three['info']}/acknowledge",
                           data={"state": "all", "severity": "info", "comment": ""})
    assert response.status_code == 303
    assert response.headers["Location"] == "/alerts?state=all&severity=info"
    alert = stored(database, three["info"])
    assert (alert.state, alert.ack_comment) == ("acknowledged", None)


def test_shelving_a_resolved_alert_is_a_conflict_shown_on_the_page(client, database, three):
    client.post(f"/ui/alerts/{three['warning']}/resolve", headers=HTMX)
    conflict = client.post(f"/ui/alerts/{three['warning']}/shelve", data={"duration": "900"},
                           headers=HTMX)
    assert conflict.status_code == 409
    assert f"Cannot shelve alert {three['warning']}: it is resolved." in conflict.text
    assert stored(database, three["warning"]).shelved_until is None
    plain = client.post(f"/ui/alerts/{three['warning']}/shelve", data={"duration": "900"})
    assert plain.status_code == 409 and "it is resolved" in plain.text


def test_a_viewer_sees_no_buttons_and_is_refused_403(viewer, database, three):
    html = viewer.get("/alerts").text
    assert len(rows(html)) == 3 and 'id="read-only"' in html
    assert "data-action=" not in html and "<form method=\"post\" action=\"/ui/alerts" not in html
    for action, data in (("acknowledge", {"comment": "x"}), ("resolve", {}),
                         ("shelve", {"duration": "900"})):
        for headers in (HTMX, {}):
            response = viewer.post(f"/ui/alerts/{three['critical']}/{action}", data=data,
                                   headers=headers)
            assert response.status_code == 403 and "needs the operator role" in response.text
    alert = stored(database, three["critical"])
    assert (alert.state, alert.shelved_until, alert.resolved_by) == ("open", None, None)


def test_posts_without_the_csrf_token_or_from_another_site_are_refused(app, database, three):
    operator = app.test_client()
    sign_in_client(operator, database, "olga", "operator")
    del operator.environ_base["HTTP_X_CSRF_TOKEN"]
    assert operator.post(f"/ui/alerts/{three['critical']}/resolve").status_code == 403
    sign_in_client(operator, database, "olga", "operator")
    response = operator.post(f"/ui/alerts/{three['critical']}/resolve",
                             headers={"Origin": "https://evil.example"})
    assert response.status_code == 403
    assert stored(database, three["critical"]).state == "open"


def test_an_anonymous_browser_goes_to_login(anonymous, three):
    assert anonymous.get("/alerts").headers["Location"] == "/login?next=/alerts"
    badge = anonymous.get("/ui/alerts/badge", headers=HTMX)
    assert badge.status_code == 401 and badge.headers["HX-Redirect"].startswith("/login")
    assert anonymous.post(f"/ui/alerts/{three['critical']}/resolve").status_code == 303


@pytest.mark.parametrize("alert_id", ["abc", "0x1", "-1", "9" * 30, "9223372036854775808",
                                      "１２", "999999", "%00"])
@pytest.mark.parametrize("action", ["acknowledge", "resolve", "shelve"])
def test_unknown_or_malformed_ids_are_404(client, alert_id, action):
    for headers in (HTMX, {}):
        response = client.post(f"/ui/alerts/{alert_id}/{action}", data={"duration": "900"},
                               headers=headers)
        assert response.status_code == 404 and "There is no alert with id" in response.text


@pytest.mark.parametrize("data", [{"duration": "60"}, {"duration": ""}, {},
                                  {"duration": "nan"}, {"duration": "900\x00"}])
def test_a_shelve_duration_not_offered_is_refused_422(client, database, three, data):
    response = client.post(f"/ui/alerts/{three['critical']}/shelve", data=data, headers=HTMX)
    assert response.status_code == 422 and "15 min, 1 h, 8 h" in response.text
    assert stored(database, three["critical"]).shelved_until is None


@pytest.mark.parametrize("comment", ["a\x07b", "x" * 1001, "\u202e\u0000"])
def test_a_bad_comment_is_refused_422_and_nothing_is_written(client, database, three, comment):
    for headers in (HTMX, {}):
        response = client.post(f"/ui/alerts/{three['critical']}/acknowledge",
                               data={"comment": comment}, headers=headers)
        assert response.status_code == 422 and "The comment was refused" in response.text
    assert stored(database, three["critical"]).state == "open"


def test_an_oversized_form_is_refused_413(client, three):
    response = client.post(f"/ui/alerts/{three['critical']}/acknowledge",
                           data={"comment": "x" * 3_000_000})
    assert response.status_code == 413


def test_names_and_comments_are_escaped(client, database):
    with database.transaction() as session:
        session.add(Target(id="evil", kind="robot", name='<script>alert("x")</script>'))
    alert_id = gen_alert(database, source="evil", parameter="battery", value=5.0)
    client.post(f"/ui/alerts/{alert_id}/acknowledge", data={"comment": "<b>bold</b>"})
    html = client.get("/alerts?state=all").text
    assert "<script>alert" not in html and "<b>bold</b>" not in html
    assert "&lt;script&gt;" in html and "&lt;b&gt;bold&lt;/b&gt;" in html


# --- the badge ---------------------------------------------------------------------------------

def badge_data(html: str) -> dict[str, str]:
    tag = re.search(r'<a id="alert-badge"[^>]*>', html, re.S).group(0)
    return dict(re.findall(r'data-([a-z]+)="([^"]*)"', tag))


def test_the_badge_counts_open_alerts_by_highest_severity(client, database, viewer):
    empty = client.get("/ui/alerts/badge", headers=HTMX)
    assert empty.status_code == 200 and "No open alerts" in empty.text
    assert badge_data(empty.text) == {"total": "0", "worst": "", "critical": "0",
                                      "warning": "0", "info": "0"}
    assert 'href="/alerts"' in empty.text and "alert-badge-none" in empty.text
    version = re.search(r"since=([0-9a-f]+)", empty.text).group(1)
    assert client.get(f"/ui/alerts/badge?since={version}", headers=HTMX).status_code == 204

    warning = gen_alert(database, value=50.0)
    critical = gen_alert(database, parameter="battery", value=5.0)
    gen_alert(database, source="spacecraft", parameter="pressure", value=1.0)  # no limit
    html = viewer.get(f"/ui/alerts/badge?since={version}", headers=HTMX).text
    assert badge_data(html) == {"total": "2", "worst": "critical", "critical": "1",
                                "warning": "1", "info": "0"}
    assert "alert-badge-critical" in html and ">2</span> open" in html

    client.post(f"/ui/alerts/{critical}/acknowledge", headers=HTMX)  # acknowledged: not open
    assert badge_data(client.get("/ui/alerts/badge").text)["worst"] == "warning"
    client.post(f"/ui/alerts/{warning}/shelve", data={"duration": "900"})  # shelved: not open
    assert badge_data(client.get("/ui/alerts/badge").text)["total"] == "0"


def test_the_badge_partial_can_be_included_in_any_page(app, database):
    """Included without counts, it reads them itself; signed out, it renders nothing."""
    from flask import g, render_template

    from mission_control import auth

    gen_alert(database, value=50.0)
    secret = token_for(database, "ida", "viewer", kind=auth.SESSION)
    with app.test_request_context("/"):
        g.identity = auth.identify(database, secret, kind=auth.SESSION)
        html = render_template("partials/alert_badge.html")
        assert badge_data(html)["total"] == "1" and "alert-badge-warning" in html
        g.identity = None
        assert render_template("partials/alert_badge.html").strip() == ""


# --- the daily report's section ------------------------------------------------------------

def test_alerts_raised_lists_a_days_alerts_worst_first(database):
    warning = gen_alert(database, value=50.0)
    critical = gen_alert(database, parameter="battery", value=5.0)
    now = utcnow()
    with database.transaction() as session:
        old = Alert(source="spacecraft", parameter="old", kind="limit", severity="critical",
                    state="resolved", message="yesterday", opened_at=now - timedelta(days=1),
                    updated_at=now - timedelta(days=1))
        session.add(old)
    start = now - timedelta(hours=1)
    with database.transaction() as session:
        raised = alerts.alerts_raised(session, start, now + timedelta(hours=1))
        assert [(a["id"], a["severity"]) for a in raised] == [(critical, "critical"),
                                                              (warning, "warning")]
        assert raised[0]["message"].startswith("spacecraft battery 5")
        assert alerts.alerts_raised(session, now + timedelta(hours=1),
                                    now + timedelta(hours=2)) == []
        yesterday = alerts.alerts_raised(session, now - timedelta(days=2), start)
        assert [a["message"] for a in yesterday] == ["yesterday"]
