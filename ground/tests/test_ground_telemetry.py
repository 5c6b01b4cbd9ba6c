"""POST and GET /api/telemetry and /api/telemetry/latest, on both databases."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from mission_control.telemetry_models import TelemetryPoint
from mission_control.testing import assert_error, bearer, token_for
from mission_control.timeutil import utcnow

HOUR = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def point(**fields) -> dict:
    return {"source": "spacecraft", "parameter": "temperature", "value": 20.5, "unit": "degC",
            **fields}


def stored(database) -> int:
    with database.transaction() as session:
        return session.scalar(select(func.count()).select_from(TelemetryPoint))


def post(client, points) -> object:
    return client.post("/api/telemetry", json={"points": points})


def series(client, **query) -> dict:
    query = {"source": "spacecraft", "parameter": "temperature", **query}
    response = client.get("/api/telemetry", query_string=query)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_a_batch_is_stored_and_read_back_as_raw_points(client, database):
    times = [HOUR + timedelta(seconds=s) for s in (0, 10, 20)]
    response = post(client, [point(value=v, time=t.isoformat()) for v, t in zip((1, 2.5, -3), times)])
    assert response.status_code == 201 and response.get_json() == {"accepted": 3}
    body = series(client, since="2026-11-20T10:00:00Z", until="2026-11-20T11:00:00Z")
    assert body["mode"] == "raw" and body["bucket_s"] is None and body["buckets"] == []
    assert [(p["time"], p["value"]) for p in body["points"]] == [
        (t.isoformat(), v) for t, v in zip(times, (1.0, 2.5, -3.0))]


def test_a_point_without_time_is_stamped_now_and_a_retry_is_stored_once(client, database):
    before = utcnow()
    assert post(client, [point()]).status_code == 201
    body = series(client)
    assert len(body["points"]) == 1
    assert datetime.fromisoformat(body["points"][0]["time"]) >= before - timedelta(seconds=1)
    again = [point(time="2026-11-20T10:00:00Z")]
    assert post(client, again).status_code == 201 and post(client, again).status_code == 201
    assert stored(database) == 2


def test_one_bad_point_rejects_the_batch_naming_each_bad_point(client, database):
    good = point(time="2026-11-20T10:00:00Z")
    response = post(client, [good, point(value="1"), good | {"parameter": "a\x00b"},
                             point(time="2026-11-20T10:00:00")])
    body = assert_error(response, 422, "invalid_points")
    assert body["error_count"] == 3
    assert [(e["index"], e["field"]) for e in body["errors"]] == [
        (1, "value"), (2, "parameter"), (3, "time")]
    assert stored(database) == 0


@pytest.mark.parametrize("raw_value", ["true", '"20"', "NaN", "Infinity", "-Infinity", "1e400",
                                       "1" + "0" * 400, "null", "[1]", "{}"])
def test_a_value_must_be_a_finite_number(client, database, raw_value):
    raw = ('{"points": [{"source": "spacecraft", "parameter": "temperature", "value": '
           + raw_value + "}]}")
    response = client.post("/api/telemetry", data=raw, content_type="application/json")
    body = assert_error(response, 422, "invalid_points")
    assert body["errors"][0]["index"] == 0 and body["errors"][0]["field"] == "value"
    assert stored(database) == 0


@pytest.mark.parametrize("fields, field", [
    ({"source": ""}, "source"), ({"source": "s" * 65}, "source"), ({"unit": "u\x1b"}, "unit"),
    ({"parameter": "\ud800"}, "parameter"), ({"time": 1764151200}, "time"),
    ({"time": "2026-13-01T00:00:00Z"}, "time"), ({"time": "9999-12-31T23:59:59Z"}, "time"),
    ({"time": "0001-01-01T00:00:00+01:00"}, "time"), ({"color": "red"}, "color"),
])
def test_bad_fields_are_named(client, database, fields, field):
    body = assert_error(post(client, [point(**fields)]), 422, "invalid_points")
    assert (body["errors"][0]["index"], body["errors"][0]["field"]) == (0, field)
    assert stored(database) == 0


@pytest.mark.parametrize("body", [[], {}, {"points": []}, {"points": "x"}, {"points": [1]},
                                  {"points": [], "extra": 1}])
def test_a_body_that_is_no_batch_is_refused(client, database, body):
    assert_error(client.post("/api/telemetry", json=body), 422, "invalid_points")


def test_more_than_10000_points_are_refused_and_10000_are_stored(client, database):
    start = HOUR
    batch = [point(time=(start + timedelta(milliseconds=i)).isoformat()) for i in range(10_001)]
    body = assert_error(post(client, batch), 422, "invalid_points")
    assert body["errors"][0]["field"] == "points"
    assert post(client, batch[:10_000]).status_code == 201
    assert stored(database) == 10_000


@pytest.mark.parametrize("count", [1, 250])  # a small batch (INSERT) and a large one (COPY)
def test_names_are_stored_as_sent_by_small_and_large_batches(client, database, count):
    sent = [point(source="rover \\ 1 ✓", parameter="a\\tb", unit="\\N", value=i,
                  time=(HOUR + timedelta(seconds=i)).isoformat()) for i in range(count)]
    assert post(client, sent).status_code == 201
    assert stored(database) == count
    body = client.get("/api/telemetry/latest", query_string={"source": "rover \\ 1 ✓"}).get_json()
    assert [(p["parameter"], p["unit"], p["value"]) for p in body["parameters"]] == [
        ("a\\tb", "\\N", count - 1)]


def test_a_large_batch_with_repeats_stores_each_point_once(client, database):
    batch = [point(value=i, time=(HOUR + timedelta(seconds=i % 300)).isoformat())
             for i in range(600)]
    assert post(client, batch).status_code == 201
    assert post(client, batch[:300]).status_code == 201
    assert stored(database) == 300


def test_malformed_bodies_are_4xx(client, make_app, database):
    assert_error(client.post("/api/telemetry", data="{", content_type="application/json"), 400)
    assert_error(client.post("/api/telemetry", data='{"points": [], "points": []}',
                             content_type="application/json"), 400, "duplicate_key")
    assert_error(client.post("/api/telemetry", data="points", content_type="text/plain"), 415)
    small = make_app(telemetry_max_body_bytes=2048).test_client()
    token = token_for(database, "small-operator", "operator")
    response = small.post("/api/telemetry", headers=bearer(token),
                          data=json.dumps({"points": [point()] * 100}),
                          content_type="application/json")
    assert_error(response, 413)


def test_viewers_read_but_do_not_write_and_anonymous_callers_do_neither(anonymous, database):
    viewer = bearer(token_for(database, "viewer", "viewer"))
    response = anonymous.post("/api/telemetry", json={"points": [point()]}, headers=viewer)
    assert_error(response, 403, "forbidden")
    assert anonymous.get("/api/telemetry?source=s&parameter=p", headers=viewer).status_code == 200
    assert anonymous.get("/api/telemetry/latest?source=s", headers=viewer).status_code == 200
    assert_error(anonymous.post("/api/telemetry", json={"points": [point()]}), 401)
    assert_error(anonymous.get("/api/telemetry?source=s&parameter=p"), 401)
    assert_error(anonymous.get("/api/telemetry/latest?source=s"), 401)
    assert stored(database) == 0


def test_many_points_come_back_as_aligned_buckets_with_min_max_avg(client, database):
    # 120 points, one each 30 s from 10:00:00, values 0..119; ten points at most over an
    # hour: 3600 / 9 = 400 s at least, so 600 s buckets starting on whole ten minutes.
    points = [point(value=i, time=(HOUR + timedelta(seconds=30 * i)).isoformat())
              for i in range(120)]
    assert post(client, points).status_code == 201
    body = series(client, since="2026-11-20T10:00:00Z", until="2026-11-20T11:00:00Z",
                  max_points=10)
    assert body["mode"] == "buckets" and body["bucket_s"] == 600 and body["points"] == []
    assert body["buckets"] == [
        {"time": (HOUR + timedelta(minutes=10 * k)).isoformat(), "min": 20 * k,
         "max": 20 * k + 19, "avg": 20 * k + 9.5, "count": 20} for k in range(6)]


def test_buckets_are_aligned_to_the_epoch_not_to_since(client, database):
    # since 10:03 is inside a bucket: the first bucket starts at 10:00 and holds the point at
    # 10:09:59; the point at exactly 10:10:00 starts the next bucket.
    points = [point(value=v, time=t) for v, t in (
        (1, "2026-11-20T10:03:00Z"), (2, "2026-11-20T10:09:59.999Z"), (3, "2026-11-20T10:10:00Z"),
        *((10 + i, f"2026-11-20T10:{20 + i:02d}:00Z") for i in range(20)))]
    assert post(client, points).status_code == 201
    body = series(client, since="2026-11-20T10:03:00Z", until="2026-11-20T11:03:00Z",
                  max_points=10)
    first, second = body["buckets"][:2]
    assert first == {"time": "2026-11-20T10:00:00+00:00", "min": 1, "max": 2, "avg": 1.5,
                     "count": 2}
    assert second["time"] == "2026-11-20T10:10:00+00:00" and second["min"] == 3
    assert len(body["buckets"]) <= 10


def test_the_window_is_half_open_and_other_series_are_left_out(client, database):
    points = [point(value=1, time="2026-11-20T10:00:00Z"), point(value=2, time="2026-11-20T11:00:00Z"),
              point(value=3, parameter="battery", time="2026-11-20T10:30:00Z"),
              point(value=4, source="robot-1", time="2026-11-20T10:30:00Z")]
    assert post(client, points).status_code == 201
    body = series(client, since="2026-11-20T10:00:00Z", until="2026-11-20T11:00:00Z")
    assert [p["value"] for p in body["points"]] == [1]


@pytest.mark.parametrize("query", [
    {}, {"source": "spacecraft"}, {"source": "s", "parameter": "p", "max_points": 5},
    {"source": "s", "parameter": "p", "max_points": 10_001},
    {"source": "s", "parameter": "p", "since": "2026-11-20T11:00:00Z",
     "until": "2026-11-20T10:00:00Z"},
    {"source": "s", "parameter": "p", "since": "2020-01-01T00:00:00Z",
     "until": "2026-01-01T00:00:00Z"},
    {"source": "s", "parameter": "p", "since": "yesterday"},
    {"source": "s", "parameter": "p", "since": "2026-11-20T10:00:00"},
    {"source": "s\x01", "parameter": "p"}, {"source": "s", "parameter": "p", "colour": "red"},
])
def test_bad_queries_are_422(client, query):
    assert_error(client.get("/api/telemetry", query_string=query), 422)


def test_a_parameter_given_twice_is_refused(client):
    assert_error(client.get("/api/telemetry?source=a&source=b&parameter=p"), 422)


def test_latest_gives_each_parameters_newest_value_with_its_limit_state(client, database):
    points = [point(value=1, time="2026-11-20T10:00:00Z"), point(value=70, time="2026-11-20T10:00:05Z"),
              point(parameter="battery", unit="%", value=80, time="2026-11-20T09:00:00Z"),
              point(parameter="pressure", unit=None, value=3, time="2026-11-20T09:00:00Z"),
              point(source="robot-1", value=99, time="2026-11-20T12:00:00Z")]
    assert post(client, points).status_code == 201
    response = client.get("/api/telemetry/latest?source=spacecraft")
    assert response.status_code == 200
    # The spacecraft's built-in limits: temperature red above 60 degC, battery yellow below 30 %;
    # no limit applies to pressure.
    assert response.get_json() == {"source": "spacecraft", "parameters": [
        {"parameter": "battery", "value": 80.0, "unit": "%", "time": "2026-11-20T09:00:00+00:00",
         "limit_state": "ok"},
        {"parameter": "pressure", "value": 3.0, "unit": None, "time": "2026-11-20T09:00:00+00:00",
         "limit_state": None},
        {"parameter": "temperature", "value": 70.0, "unit": "degC",
         "time": "2026-11-20T10:00:05+00:00", "limit_state": "red"}]}
    empty = client.get("/api/telemetry/latest?source=nobody").get_json()
    assert empty == {"source": "nobody", "parameters": []}
    assert_error(client.get("/api/telemetry/latest"), 422)


def test_backslashes_and_unicode_in_names_are_stored_as_sent(client, database):
    sent = point(source="rover \\ 1 ✓", parameter="a\\tb", unit="\\N",
                 time="2026-11-20T10:00:00Z")
    assert post(client, [sent]).status_code == 201
    body = client.get("/api/telemetry/latest", query_string={"source": sent["source"]}).get_json()
    assert [(p["parameter"], p["unit"]) for p in body["parameters"]] == [("a\\tb", "\\N")]


def test_a_value_beyond_a_limit_opens_an_alert_in_the_ingest_and_a_bad_batch_opens_none(client):
    bad = [point(value=70), point(value="hot")]  # the second spoils the batch: nothing at all
    assert_error(post(client, bad), 422)
    assert client.get("/api/alerts?state=open").get_json()["items"] == []
    assert post(client, [point(value=50, time="2026-11-20T10:00:00Z"),
                         point(value=70, time="2026-11-20T10:00:01Z")]).status_code == 201
    [alert] = client.get("/api/alerts?state=open").get_json()["items"]
    assert (alert["source"], alert["parameter"], alert["severity"], alert["value"]) == \
        ("spacecraft", "temperature", "critical", 70.0)  # yellow first, then worse: one alert
