"""Attacker probes of registry-api, through the real Flask app on SQLite and PostgreSQL: every
bad input is a 4xx JSON error and leaves no row and no event behind; reading the event feed
writes nothing when there is nothing to number."""

from __future__ import annotations


import io
import threading

import pytest
from sqlalchemy import func, select, text

from mission_control.db import is_postgresql
from mission_control.registry_models import RegistryEvent, Workspace
from mission_control.testing import assert_error
from registry_api import events

from .conftest import PREFIX

STREAMED = {"headers": {"Transfer-Encoding": "chunked"},
            "environ_overrides": {"wsgi.input_terminated": True}}


def stored(database) -> tuple[int, int]:
    """Workspaces and events in the database."""
    with database.transaction() as session:
        return (session.scalar(select(func.count()).select_from(Workspace)),
                session.scalar(select(func.count()).select_from(RegistryEvent)))


def post_raw(client, path: str, body: str | bytes, **kwargs):
    return client.post(f"{PREFIX}/{path}", data=body, content_type="application/json", **kwargs)


@pytest.mark.parametrize("text_", [r"\ud800", r"a\udfffb", r"\u0000", r"\u001b", r"\u007f"])
@pytest.mark.parametrize("field", ["name", "description"])
def test_text_no_database_can_store_is_422_naming_the_field(client, database, field, text_):
    other = "description" if field == "name" else "name"
    response = post_raw(client, "workspaces", f'{{"{field}": "{text_}", "{other}": "ok"}}')

    body = assert_error(response, 422, "validation_error")
    assert [f["field"] for f in body["fields"]] == [field]
    assert stored(database) == (0, 0)


@pytest.mark.parametrize("email", [r"a\ud800@example.com", r"a@exa\u0000mple.com"])
def test_unstorable_text_in_an_email_is_422(client, registry, email):
    level = registry.level()
    response = post_raw(client, "robots", f'{{"name": "r", "owner": "o", "owner_email": "{email}", '
                                          f'"level_id": "{level["id"]}"}}')

    assert "owner_email" in {f["field"] for f in assert_error(response, 422)["fields"]}


def test_a_key_given_twice_is_refused_on_create_and_patch(client, registry, database):
    response = post_raw(client, "workspaces", '{"name": "a", "name": "b"}')
    assert assert_error(response, 400, "duplicate_key")["key"] == "name"
    assert stored(database) == (0, 0)

    workspace = registry.workspace(name="kept")
    response = client.patch(f"{PREFIX}/workspaces/{workspace['id']}",
                            data='{"description": "x", "description": "y"}',
                            content_type="application/json")
    assert_error(response, 400, "duplicate_key")
    assert client.get(f"{PREFIX}/workspaces/{workspace['id']}").get_json()["description"] == ""
    assert stored(database) == (1, 1)


def test_a_key_given_twice_deep_inside_is_refused(client, registry, database):
    level = registry.level()
    before = stored(database)
    response = post_raw(client, "fixed-assets",
                        f'{{"level_id": "{level["id"]}", "name": "a", "asset_type": "t", '
                        f'"position": {{"x": 1, "y": 2, "z": 3, "x": 4}}}}')

    assert assert_error(response, 400, "duplicate_key")["key"] == "x"
    assert stored(database) == before


@pytest.mark.parametrize("value", ["1e400", "-1e400", "NaN", "Infinity", str(10**400)])
def test_numbers_that_are_no_finite_number_are_422(client, registry, value):
    project = registry.project()
    response = post_raw(client, "levels", f'{{"project_id": "{project["id"]}", "name": "l", '
                                          f'"elevation": {value}}}')

    assert "elevation" in {f["field"] for f in assert_error(response, 422)["fields"]}


@pytest.mark.parametrize("query, field", [
    ("offset=9223372036854775808", "offset"), ("limit=99999999999999999999999", "limit"),
    ("sort=name&sort=-name", "sort"), ("limit=1&limit=2", "limit"),
])
def test_bad_query_numbers_and_repeated_parameters_are_422(client, query, field):
    body = assert_error(client.get(f"{PREFIX}/workspaces?{query}"), 422, "validation_error")

    assert [f["field"] for f in body["fields"]] == [field]


@pytest.mark.parametrize("query", ["since=9223372036854775808", "since=1&since=2",
                                   "limit=10000000000000000000000"])
def test_bad_event_cursors_are_422(client, query):
    assert_error(client.get(f"{PREFIX}/events?{query}"), 422, "validation_error")


def test_a_streamed_body_over_the_limit_is_413(client, database):
    body = b'{"name": "w", "description": "' + b"x" * (64 * 1024) + b'"}'

    response = post_raw(client, "workspaces", b"", input_stream=io.BytesIO(body), **STREAMED)

    assert_error(response, 413, "payload_too_large")
    assert stored(database) == (0, 0)


def test_a_streamed_body_within_the_limit_is_created(client, database):
    response = post_raw(client, "workspaces", b"", input_stream=io.BytesIO(b'{"name": "w"}'),
                        **STREAMED)

    assert response.status_code == 201
    assert stored(database) == (1, 1)


@pytest.mark.parametrize("segment", ["%00", "%ED%A0%80", "%FF", "x" * 5000])
def test_odd_ids_are_404_in_json(client, segment):
    assert_error(client.get(f"{PREFIX}/robots/{segment}"), 404, "not_found")
    assert_error(client.delete(f"{PREFIX}/robots/{segment}"), 404, "not_found")


@pytest.mark.parametrize("method", ["PUT", "PROPFIND", "TRACE"])
def test_odd_methods_are_405_in_json(client, database, method):
    assert_error(client.open(f"{PREFIX}/workspaces", method=method, json={"name": "w"}), 405)
    assert stored(database) == (0, 0)


# --- the event feed: reads that find nothing to number write nothing ---------------------------

def _hold_the_numbering(database):
    """A connection that holds what numbering needs: SQLite's write lock, or PostgreSQL's
    numbering advisory lock. Returns it; close it to let go."""
    connection = database.engine.connect()
    if is_postgresql(database.engine):
        connection.begin()
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                           {"key": events._NUMBERING_LOCK_KEY})
    else:
        connection.begin()  # BEGIN IMMEDIATE: the database's one write lock
    return connection


def _read_within(client, path: str, seconds: float):
    answers: list = []
    reader = threading.Thread(target=lambda: answers.append(client.get(path)), daemon=True)
    reader.start()
    reader.join(seconds)
    return answers[0] if answers else None


def test_reading_a_fully_numbered_feed_takes_no_lock(client, registry, database):
    registry.workspace()
    assert len(client.get(f"{PREFIX}/events").get_json()["items"]) == 1  # numbers it
    holder = _hold_the_numbering(database)
    try:
        response = _read_within(client, f"{PREFIX}/events", 5)
    finally:
        holder.close()

    assert response is not None, "the read waited for a lock: it meant to write"
    assert response.status_code == 200 and len(response.get_json()["items"]) == 1


def test_events_waiting_for_a_number_get_one_on_the_next_read(client, registry, database):
    registry.workspace()
    registry.workspace()
    first = client.get(f"{PREFIX}/events").get_json()
    registry.workspace()

    second = client.get(f"{PREFIX}/events?since={first['next']}").get_json()

    assert len(first["items"]) == 2
    assert len(second["items"]) == 1 and second["items"][0]["id"] > first["next"]
    with database.transaction() as session:
        assert session.scalar(select(func.count()).select_from(RegistryEvent)
                              .where(RegistryEvent.position.is_(None))) == 0
