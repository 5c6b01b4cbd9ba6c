"""Attacker probes of ground, through the real Flask app on SQLite and PostgreSQL: every bad
input gets a 4xx JSON error (or, on the page, a 4xx page that says why) and nothing is stored.

One test per class of input: text no database can store, numbers beyond what a database
takes, ambiguous JSON, bodies without a length, odd methods and paths.
"""

from __future__ import annotations

import io

import pytest
from gunicorn.http.errors import InvalidChunkSize
from sqlalchemy import func, select

from mission_control.models import Telecommand, TelecommandHistory
from mission_control.testing import (
    TEST_PASSWORD, add_user, assert_error, assert_headers_sendable, gen_command, sign_in_client,
)

HTMX = {"HX-Request": "true"}
# A body without Content-Length, as gunicorn hands it over (it de-chunks and terminates it).
STREAMED = {"headers": {"Transfer-Encoding": "chunked"},
            "environ_overrides": {"wsgi.input_terminated": True}}


def stored(database) -> tuple[int, int]:
    with database.transaction() as session:
        return (session.scalar(select(func.count()).select_from(Telecommand)),
                session.scalar(select(func.count()).select_from(TelecommandHistory)))


def post_raw(client, body: str | bytes, **kwargs):
    return client.post("/api/telecommands", data=body, content_type="application/json", **kwargs)


@pytest.mark.parametrize("field", ["command_name", "target", "module_id"])
@pytest.mark.parametrize("text", [r"\ud800", r"\udfff", r"a\udc00b", r"\u0000", r"\u001b",
                                  r"\u007f", r"x\ud83d"])
def test_text_no_database_can_store_is_422_naming_the_field(client, database, field, text):
    body = {"command_name": '"PING"', field: f'"{text}"'}
    response = post_raw(client, "{" + ", ".join(f'"{k}": {v}' for k, v in body.items()) + "}")

    body = assert_error(response, 422, "validation_error")
    assert [f["field"] for f in body["fields"]] == [field]
    assert stored(database) == (0, 0)


def test_a_surrogate_pair_is_ordinary_text(client):
    response = post_raw(client, r'{"command_name": "PING", "target": "\ud83d\ude80"}')

    assert_error(response, 422, "unknown_target")  # read as the rocket, looked up, not found


@pytest.mark.parametrize("body, key", [
    ('{"command_name": "REBOOT", "confirm": false, "confirm": true}', "confirm"),
    ('{"command_name": "PING", "command_name": "REBOOT", "confirm": true}', "command_name"),
    ('{"command_name": "SET_HEATER", "args": {"on": true, "on": false}}', "on"),
])
def test_a_key_given_twice_is_refused_as_ambiguous(client, database, body, key):
    response = post_raw(client, body)

    assert assert_error(response, 400, "duplicate_key")["key"] == key
    assert stored(database) == (0, 0)


@pytest.mark.parametrize("args", [
    '{"roll": NaN, "pitch": 0, "yaw": 0}', '{"roll": Infinity, "pitch": 0, "yaw": 0}',
    '{"roll": -Infinity, "pitch": 0, "yaw": 0}', '{"roll": 1e400, "pitch": 0, "yaw": 0}',
    '{"roll": 1, "pitch": 0, "yaw": -1e999}',
])
def test_numbers_that_are_no_finite_number_are_422(client, database, args):
    response = post_raw(client, f'{{"command_name": "ADJUST_ATTITUDE", "args": {args}}}')

    assert_error(response, 422, "invalid_command")
    assert stored(database) == (0, 0)


@pytest.mark.parametrize("exposure, status", [
    (str(2**63), 422), (str(-(2**64)), 422), ("9" * 4000, 422),
    ("9" * 5000, 400),  # beyond what Python parses at all: not JSON we can read
])
def test_integers_beyond_64_bits_are_refused(client, database, exposure, status):
    response = post_raw(client, f'{{"command_name": "CAPTURE_IMAGE", "args": '
                                f'{{"exposure_ms": {exposure}}}}}')

    assert_error(response, status)
    assert stored(database) == (0, 0)


@pytest.mark.parametrize("query, field", [
    ("offset=9223372036854775808", "offset"),
    ("offset=99999999999999999999999999999", "offset"),
    ("offset=-1", "offset"),
    ("limit=18446744073709551617", "limit"),
    ("status=READY&status=FAILED", "status"),
    ("limit=1&limit=2", "limit"),
])
def test_bad_query_numbers_and_repeated_parameters_are_422(client, query, field):
    body = assert_error(client.get(f"/api/telecommands?{query}"), 422, "validation_error")

    assert [f["field"] for f in body["fields"]] == [field]


def test_the_largest_offset_is_an_empty_page_and_one_more_is_422(client, database):
    gen_command(database)

    response = client.get("/api/telecommands?offset=1000000000")

    assert response.status_code == 200
    assert response.get_json()["items"] == [] and response.get_json()["total"] == 1
    body = assert_error(client.get("/api/telecommands?offset=1000000001"), 422, "validation_error")
    assert [f["field"] for f in body["fields"]] == ["offset"]


def test_a_streamed_body_over_the_limit_is_413(client, database):
    body = b'{"command_name": "PING", "args": {"pad": "' + b"x" * (64 * 1024) + b'"}}'

    response = post_raw(client, b"", input_stream=io.BytesIO(body), **STREAMED)

    assert_error(response, 413, "payload_too_large")
    assert stored(database) == (0, 0)


@pytest.mark.parametrize("size", [10, 64 * 1024])
def test_a_streamed_body_within_the_limit_is_read(client, database, size):
    head = b'{"command_name": "PING", "target": "'
    body = head + b"s" * (size - len(head) - 2) + b'"}' if size > 100 else \
        b'{"command_name": "PING"}'

    response = post_raw(client, b"", input_stream=io.BytesIO(body), **STREAMED)

    assert response.status_code in (201, 422), response.get_data(as_text=True)
    assert response.status_code == 201 or response.get_json()["error"] == "validation_error"


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-16",
                                          "application/merge-patch+json"])
def test_other_json_content_types_are_read_as_json(client, content_type):
    response = client.post("/api/telecommands", data='{"command_name": "PING"}',
                           content_type=content_type)

    assert response.status_code == 201


@pytest.mark.parametrize("method", ["PROPFIND", "TRACE", "PATCH", "DELETE", "BREW"])
def test_odd_methods_are_405_in_json(client, database, method):
    response = client.open("/api/telecommands", method=method, data="{}",
                           content_type="application/json")

    assert_error(response, 405)
    assert stored(database) == (0, 0)


@pytest.mark.parametrize("segment", ["%00", "%ED%A0%80", "%FF%FE", "a%1Bb", "x" * 5000])
def test_odd_path_segments_are_404_in_json(client, segment):
    assert_error(client.get(f"/api/telecommands/{segment}"), 404, "not_found")
    assert_error(client.put(f"/api/telecommands/{segment}/cancel"), 404, "not_found")


@pytest.mark.parametrize("value", ["a\x00b", "a\x1bb", "\x7f"])
def test_control_characters_in_headers_are_422(client, database, value):
    response = client.post("/api/telecommands", json={"command_name": "PING"},
                           headers={"Idempotency-Key": value})

    assert_error(response, 422, "validation_error")
    assert stored(database) == (0, 0)


# --- the page's forms --------------------------------------------------------------------------

ODD_TEXT = ["bob\x1b", "bob\x00", "\x1b[31mred", "a\x7f", "b\x1fc", "\u202eevil", "\ufeffann",
            "\U0001f680", "ann\u0301", "x" * 5000]


@pytest.mark.parametrize("text", ODD_TEXT)
@pytest.mark.parametrize("field", ["username", "password", "next"])
def test_odd_text_in_the_sign_in_form_gets_a_clear_4xx(anonymous, database, field, text):
    add_user(database, "ann", "operator")
    data = {"username": "ann", "password": "wrong password", "next": "/", field: text}

    response = anonymous.post("/login", data=data)

    assert response.status_code in (400, 401, 413, 422), response.text[:300]
    assert response.mimetype == "text/html" and "Wrong username or password" in response.text
    assert "Set-Cookie" not in response.headers
    assert_headers_sendable(response)


@pytest.mark.parametrize("text", ODD_TEXT)
def test_odd_text_in_next_never_leaves_the_site_after_a_good_sign_in(anonymous, database, text):
    add_user(database, "ann", "operator")

    response = anonymous.post("/login", data={"username": "ann", "password": TEST_PASSWORD,
                                              "next": text})

    assert response.status_code == 303 and response.headers["Location"] == "/"
    assert_headers_sendable(response)


@pytest.mark.parametrize("raw", [b"username=%FF%FE&password=%C0%80", b"username=a%00&password=%ED%A0%80",
                                 b"username=%%%&password=&&&===", b"\xff\xfe\x00"])
def test_bytes_that_are_no_form_in_the_sign_in_form_get_a_4xx(anonymous, raw):
    response = anonymous.post("/login", data=raw,
                              content_type="application/x-www-form-urlencoded")

    assert 400 <= response.status_code < 500
    assert_headers_sendable(response)


@pytest.mark.parametrize("query", ["next=%00", "next=%ED%A0%80", "next=%FF", "next=//evil.com",
                                   "next=" + "a" * 5000, "next=%E2%80%AE//evil"])
def test_odd_next_on_the_sign_in_page_is_replaced_by_the_home_page(anonymous, query):
    response = anonymous.get(f"/login?{query}")

    assert response.status_code == 200
    assert '<input type="hidden" name="next" value="/">' in response.text


@pytest.mark.parametrize("field", ["command_name", "target", "arg.on"])
def test_the_send_form_refuses_unprintable_fields(client, database, field):
    data = {"operator": "ann", "target": "spacecraft", "command_name": "SET_HEATER",
            field: "x\x00y"}

    response = client.post("/ui/telecommands", data=data, headers=HTMX)

    assert response.status_code == 422 or (field == "arg.on" and response.status_code == 201)
    assert_headers_sendable(response)
    assert stored(database) == ((1, 1) if response.status_code == 201 else (0, 0))


def test_an_accepted_form_answers_with_sendable_headers(app, database):
    # A name mc-users would refuse today, stored before its rules: it is shown, never a header.
    client = app.test_client()
    sign_in_client(client, database, "Zoë \"Z\" O'Neil; x=1", "operator")

    response = client.post("/ui/telecommands", headers=HTMX,
                           data={"target": "spacecraft", "command_name": "PING"})

    assert response.status_code == 201
    assert_headers_sendable(response)
    assert client.get("/").text.count("Zoë") >= 1


@pytest.mark.parametrize("operator", ["bob\x00", "mallory"])
def test_an_operator_field_is_ignored_by_cancel(client, database, operator):
    command_id = gen_command(database)

    response = client.post(f"/ui/telecommands/{command_id}/cancel", headers=HTMX,
                           data={"operator": operator})

    assert response.status_code == 200
    history = client.get(f"/api/telecommands/{command_id}").get_json()["history"]
    assert history[-1]["actor"] == "operator"


def test_an_unusable_operator_cookie_is_ignored(client, database):
    command_id = gen_command(database)
    client.set_cookie("mc_operator", "bob\x00\x1b")  # sent as a quoted cookie's escapes

    response = client.post(f"/ui/telecommands/{command_id}/cancel", headers=HTMX)

    assert response.status_code == 200
    history = client.get(f"/api/telecommands/{command_id}").get_json()["history"]
    assert history[-1]["actor"] == "operator"


def test_a_streamed_form_over_the_limit_is_413_and_stores_nothing(client, database):
    form = b"target=spacecraft&command_name=PING&pad=" + b"x" * (64 * 1024)

    response = client.post("/ui/telecommands", input_stream=io.BytesIO(form),
                           content_type="application/x-www-form-urlencoded", **STREAMED)

    assert_error(response, 413, "payload_too_large")
    assert stored(database) == (0, 0)


def test_a_streamed_form_over_the_limit_with_its_token_inside_is_413(client, database):
    # A browser's form carries the CSRF token in the body, not in a header: the guard must
    # not read a truncated form and let it through.
    csrf = client.environ_base.pop("HTTP_X_CSRF_TOKEN")
    form = (f"csrf_token={csrf}&target=spacecraft&command_name=PING&pad=".encode()
            + b"x" * (64 * 1024))

    response = client.post("/ui/telecommands", input_stream=io.BytesIO(form),
                           content_type="application/x-www-form-urlencoded", **STREAMED)

    assert_error(response, 413, "payload_too_large")
    assert stored(database) == (0, 0)


@pytest.mark.parametrize("path", ["/login", "/logout"])
def test_a_streamed_sign_in_form_over_the_limit_is_413(anonymous, path):
    form = b"username=ann&password=" + b"x" * (64 * 1024)

    response = anonymous.post(path, input_stream=io.BytesIO(form),
                              content_type="application/x-www-form-urlencoded", **STREAMED)

    assert_error(response, 413, "payload_too_large")


class _BrokenChunks(io.BytesIO):
    """What gunicorn's reader does with a body whose chunked framing is broken."""

    def read(self, size: int | None = -1) -> bytes:
        raise InvalidChunkSize(b"zz")

    def readinto(self, buffer) -> int:
        raise InvalidChunkSize(b"zz")


@pytest.mark.parametrize("path, content_type", [
    ("/api/telecommands", "application/json"),
    ("/ui/telecommands", "application/x-www-form-urlencoded"),
    ("/login", "application/x-www-form-urlencoded"),
    ("/logout", "application/x-www-form-urlencoded"),
])
def test_a_body_the_server_cannot_read_is_400(client, database, path, content_type):
    response = client.post(path, input_stream=_BrokenChunks(), content_type=content_type,
                           **STREAMED)

    assert_error(response, 400, "malformed_body")
    assert stored(database) == (0, 0)
