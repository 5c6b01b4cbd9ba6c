"""ground's /metrics: public, well-formed, bounded labels, and figures that follow what happens.

The series live in the test process's default registry for the whole run, so every test
compares a scrape after its requests with one before them.
"""

from __future__ import annotations

from mission_control.metrics_testing import figure, label_values, promtool_check, samples
from mission_control.testing import TEST_PASSWORD, add_user, assert_error

DURATION = "mc_http_request_duration_seconds_count"
TRANSITIONS = "mc_telecommand_transitions_total"
REFUSED = "mc_logins_refused_total"


def scrape(client) -> str:
    response = client.get("/metrics")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_metrics_is_public_and_passes_promtool(anonymous, client):
    client.get("/api/telecommands")  # something in every series family the page has
    response = anonymous.get("/metrics")  # no token, no session
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    page = response.get_data(as_text=True)
    for series in ("mc_http_request_duration_seconds_bucket", "mc_build_info", "mc_telecommands",
                   TRANSITIONS, REFUSED):
        assert f"\n{series}" in page, series
    assert figure(page, "mc_build_info", service="ground") == 1
    promtool_check(page)


def test_requests_are_labelled_by_their_url_rule_never_their_path(client, anonymous):
    before = scrape(anonymous)
    for command_id in ("123", "456"):
        assert_error(client.get(f"/api/telecommands/{command_id}"), 404)
    assert_error(anonymous.get("/no/such/page"), 404)
    assert_error(anonymous.get("/another/missing/page"), 404)
    assert_error(client.open("/api/telecommands", method="BREW"), 405)
    after = scrape(anonymous)

    def moved(**labels) -> float:
        return figure(after, DURATION, service="ground", **labels) - \
            figure(before, DURATION, service="ground", **labels)

    routes = label_values(after, DURATION, "route")
    assert "/api/telecommands/<command_id>" in routes
    assert not any("123" in r or "456" in r or "missing" in r for r in routes), routes
    assert moved(route="/api/telecommands/<command_id>", method="GET", status="404") == 2
    assert moved(route="unmatched", method="GET", status="404") == 2
    assert moved(route="unmatched", method="other", status="405") == 1
    assert "BREW" not in label_values(after, DURATION, "method")


def test_refused_requests_are_timed_too(anonymous):
    before = scrape(anonymous)
    assert_error(anonymous.get("/api/telecommands"), 401)
    assert_error(anonymous.get("/health", headers={"Host": "evil.example"}), 400)
    after = scrape(anonymous)
    for route, status in (("/api/telecommands", "401"), ("/health", "400")):
        assert figure(after, DURATION, route=route, status=status) - \
            figure(before, DURATION, route=route, status=status) == 1


def test_telecommands_by_status_are_read_from_the_database(client):
    created = [client.post("/api/telecommands", json={"command_name": "PING"}).get_json()["id"]
               for _ in range(3)]
    assert client.put(f"/api/telecommands/{created[0]}/cancel").status_code == 200
    page = scrape(client)
    listed = client.get("/api/telecommands?limit=500").get_json()["items"]
    for status in ("READY", "CANCELLED", "TRANSMITTED", "ACKNOWLEDGED", "EXECUTED", "FAILED"):
        assert figure(page, "mc_telecommands", status=status) == \
            sum(1 for c in listed if c["status"] == status), status
    assert figure(page, "mc_telecommands", status="READY") == 2


def test_transitions_count_creations_and_cancels_once_committed(client):
    before = scrape(client)
    ids = [client.post("/api/telecommands", json={"command_name": "PING"}).get_json()["id"]
           for _ in range(2)]
    replay = {"Idempotency-Key": "metrics-1"}
    for _ in range(2):  # the replay creates nothing
        assert client.post("/api/telecommands", json={"command_name": "PING"},
                           headers=replay).status_code == 201
    assert_error(client.post("/api/telecommands", json={"command_name": "NOPE"}), 422)
    assert client.put(f"/api/telecommands/{ids[0]}/cancel").status_code == 200
    assert_error(client.put(f"/api/telecommands/{ids[0]}/cancel"), 409)
    after = scrape(client)

    def moved(from_status: str, to_status: str) -> float:
        labels = {"from_status": from_status, "to_status": to_status}
        return figure(after, TRANSITIONS, **labels) - figure(before, TRANSITIONS, **labels)

    assert moved("NONE", "READY") == 3
    assert moved("READY", "CANCELLED") == 1
    # Every allowed change shows from the start (at 0 until it happens), so rate() has a series.
    assert (TRANSITIONS, frozenset({("from_status", "ACKNOWLEDGED"),
                                    ("to_status", "EXECUTED")})) in samples(after)


def test_every_refused_sign_in_is_counted_by_reason(anonymous, database):
    add_user(database, "ada", "operator")
    add_user(database, "bob", "operator", disabled=True)

    def token(username: str, password: str):
        return anonymous.post("/api/auth/tokens", json={"username": username,
                                                        "password": password})

    before = scrape(anonymous)
    assert token("ada", TEST_PASSWORD).status_code == 201  # not a refusal
    assert_error(token("ada", "wrong"), 401)
    assert_error(token("nobody", "wrong"), 401)
    assert_error(token("bob", TEST_PASSWORD), 401)
    assert anonymous.post("/login", data={"username": "ada", "password": "wrong"}
                          ).status_code == 401
    assert anonymous.post("/login", data={"username": "", "password": ""}).status_code == 401
    for _ in range(4):  # the fifth failure for ada in all; then she is throttled
        token("ada", "wrong")
    assert_error(token("ada", TEST_PASSWORD), 429)
    after = scrape(anonymous)

    def moved(reason: str) -> float:
        return figure(after, REFUSED, reason=reason) - figure(before, REFUSED, reason=reason)

    assert moved("bad_credentials") == 3 + 3  # ada x2 + nobody, then 3 of the 4 before the limit
    assert moved("disabled") == 1
    assert moved("malformed") == 1
    assert moved("throttled") == 2  # the fourth extra attempt and the right password
