"""The Batches page: the live roll-up table and the form that sends to a selection."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from mission_control.batch_models import Batch
from mission_control.testing import sign_in_client

from .test_ground_batches import gen_place, gen_robot

HTMX = {"HX-Request": "true"}


def batch_count(database) -> int:
    with database.transaction() as session:
        return session.scalar(select(func.count()).select_from(Batch))


def test_the_page_lists_batches_with_their_counts_and_offers_the_form(client, database):
    place = gen_place(database)
    robot, _ = gen_robot(database, "r", level_id=place["level_id"])
    batch_id = client.post("/api/batches", json={"command_name": "STOP",
                                                 "targets": [robot]}).get_json()["id"]
    html = client.get("/batches").text
    row = re.search(rf'<tr id="batch-{batch_id}".*?</tr>', html, re.S).group(0)
    assert "STOP" in row and 'data-done="false"' in row
    assert re.search(r'data-status="READY" class="has-count[^"]*">1<', row)
    assert 'id="batch-form"' in html
    assert f'value="level_id:{place["level_id"]}"' in html  # the place choices
    head = re.search(r'<table class="queue batches".*?</thead>', html, re.S).group(0)
    cells = re.compile(r"<t[dh][ >]")
    assert len(cells.findall(head)) == len(cells.findall(row))  # a heading per column
    assert ">Awaiting approval<" in head


def test_a_viewer_sees_the_table_but_no_form(app, database):
    viewer = app.test_client()
    sign_in_client(viewer, database, "vic", "viewer")
    html = viewer.get("/batches").text
    assert 'id="batches-body"' in html and 'id="batch-form"' not in html
    assert 'id="read-only"' in html
    assert viewer.post("/ui/batches", data={"command_name": "PING"},
                       headers=HTMX).status_code == 403
    assert batch_count(database) == 0


def test_the_form_sends_to_the_selected_robots(client, database):
    place = gen_place(database)
    gen_robot(database, "a", level_id=place["level_id"], online=True)
    gen_robot(database, "b", level_id=place["level_id"])
    gen_robot(database, "elsewhere", online=True)
    answer = client.post("/ui/batches", headers=HTMX, data={
        "command_name": "SET_SPEED", "args": '{"speed_m_s": 0.5}',
        "place": f"level_id:{place['level_id']}", "connection": "online"})
    assert answer.status_code == 201
    assert "SET_SPEED sent to 1 target." in answer.text
    assert answer.headers["HX-Trigger"] == "batches-refresh"
    body = client.get("/api/batches").get_json()["items"][0]
    assert body["count"] == 1 and body["args"] == {"speed_m_s": 0.5}
    assert body["selector"] == {"level_id": str(place["level_id"]), "connection": "online"}


def test_a_refusal_is_shown_with_the_offending_ids_and_nothing_is_sent(client, database):
    gen_robot(database, "a", modules=("arm",))
    bare, _ = gen_robot(database, "bare")
    answer = client.post("/ui/batches", headers=HTMX, data={"command_name": "START",
                                                            "module": "arm"})
    assert answer.status_code == 422
    assert 'id="batch-error"' in answer.text and bare in answer.text
    bad_json = client.post("/ui/batches", headers=HTMX, data={"command_name": "PING",
                                                              "args": "{nope"})
    assert bad_json.status_code == 422 and "JSON object" in bad_json.text
    without_htmx = client.post("/ui/batches", data={"command_name": "PING", "args": "{nope"})
    assert without_htmx.status_code == 422  # the whole page, the form as it was typed
    assert 'id="batches-body"' in without_htmx.text and 'value="{nope"' in without_htmx.text
    assert batch_count(database) == 0


def test_the_fragment_answers_204_while_nothing_changed(client, database):
    robot, _ = gen_robot(database, "r")
    first = client.get("/ui/batches", headers=HTMX)
    version = re.search(r'data-version="([0-9a-f]+)"', first.text).group(1)
    assert client.get(f"/ui/batches?since={version}", headers=HTMX).status_code == 204
    client.post("/api/batches", json={"command_name": "PING", "targets": [robot]})
    changed = client.get(f"/ui/batches?since={version}", headers=HTMX)
    assert changed.status_code == 200 and "PING" in changed.text


def test_the_page_needs_a_sign_in(anonymous):
    response = anonymous.get("/batches")
    assert response.status_code == 303 and "/login?next=" in response.headers["Location"]


def test_an_operator_cancels_a_batch_from_the_page_and_a_viewer_cannot(app, client, database):
    robot, _ = gen_robot(database, "r")
    batch_id = client.post("/api/batches", json={"command_name": "STOP",
                                                 "targets": [robot]}).get_json()["id"]
    html = client.get("/batches").text
    assert f'id="cancel-{batch_id}"' in html
    viewer = app.test_client()
    sign_in_client(viewer, database, "vic", "viewer")
    assert f'id="cancel-{batch_id}"' not in viewer.get("/batches").text
    assert viewer.post(f"/ui/batches/{batch_id}/cancel").status_code == 403
    answer = client.post(f"/ui/batches/{batch_id}/cancel")
    assert answer.status_code == 303 and answer.headers["Location"].endswith("/batches")
    body = client.get(f"/api/batches/{batch_id}").get_json()
    assert body["counts"]["CANCELLED"] == 1 and body["done"]
    row = re.search(rf'<tr id="batch-{batch_id}".*?</tr>', client.get("/batches").text,
                    re.S).group(0)
    assert 'data-done="true"' in row and "cancel-" not in row  # nothing left to cancel
    assert client.post("/ui/batches/not-a-uuid/cancel").status_code == 404
