"""The commands page's approvals and controls panel: what each user sees, and its buttons."""

from __future__ import annotations

import uuid

import pytest

from mission_control.testing import gen_command, sign_in_client
from mission_control.status import Status

HTMX = {"HX-Request": "true"}


@pytest.fixture
def app(make_app):
    return make_app(approval_required="hazardous")


def signed_in(app, database, username, role="operator"):
    client = app.test_client()
    sign_in_client(client, database, username, role)
    return client


def awaiting(database) -> uuid.UUID:
    """A REBOOT sent by "tester", waiting for approval."""
    return gen_command(database, status=Status.AWAITING_APPROVAL, command_name="REBOOT",
                       confirmed_by="tester")


def test_the_page_lists_commands_waiting_for_someone_elses_approval(app, database):
    command_id = awaiting(database)
    bob = signed_in(app, database, "bob")
    tester = signed_in(app, database, "tester")

    assert f'id="approval-{command_id}"' in bob.get("/").text
    assert f'id="approval-{command_id}"' not in tester.get("/").text  # not one's own
    assert 'id="no-approvals"' in tester.get("/ui/approvals", headers=HTMX).text


def test_approve_and_reject_from_the_page(app, database):
    first, second = awaiting(database), awaiting(database)
    bob = signed_in(app, database, "bob")

    approved = bob.post(f"/ui/telecommands/{first}/approve", headers=HTMX)
    rejected = bob.post(f"/ui/telecommands/{second}/reject", data={"reason": "wrong pass"},
                        headers=HTMX)

    assert approved.status_code == 200 and f"Approved {str(first)[:8]}." in approved.text
    assert rejected.status_code == 200 and 'id="no-approvals"' in rejected.text
    api = bob.get(f"/api/telecommands/{second}").get_json()
    assert (api["status"], api["status_reason"]) == ("CANCELLED", "rejected by bob: wrong pass")
    assert bob.get(f"/api/telecommands/{first}").get_json()["approved_by"] == "bob"
    again = bob.post(f"/ui/telecommands/{first}/approve", headers=HTMX)
    assert again.status_code == 409 and "command is READY" in again.text


def test_the_sender_is_refused_on_the_page_too(app, database):
    command_id = awaiting(database)
    tester = signed_in(app, database, "tester")
    refused = tester.post(f"/ui/telecommands/{command_id}/approve", headers=HTMX)
    assert refused.status_code == 409 and "cannot approve it" in refused.text


def test_a_form_post_without_the_csrf_token_is_refused(app, database):
    command_id = awaiting(database)
    bob = signed_in(app, database, "bob")
    del bob.environ_base["HTTP_X_CSRF_TOKEN"]
    assert bob.post(f"/ui/telecommands/{command_id}/approve", headers=HTMX).status_code == 403
    assert bob.get(f"/api/telecommands/{command_id}").get_json()["status"] == "AWAITING_APPROVAL"


def test_take_and_release_control_from_the_page(app, database):
    alice, bob = signed_in(app, database, "alice"), signed_in(app, database, "bob")

    taken = alice.post("/ui/controls", data={"target": "spacecraft"}, headers=HTMX)
    assert taken.status_code == 200 and 'data-holder="alice"' in taken.text
    refused = bob.post("/ui/controls", data={"target": "spacecraft"}, headers=HTMX)
    assert refused.status_code == 409 and "controlled by alice" in refused.text
    assert bob.post("/ui/controls/spacecraft/release", headers=HTMX).status_code == 409
    released = alice.post("/ui/controls/spacecraft/release", headers=HTMX)
    assert released.status_code == 200 and 'id="no-controls"' in released.text


def test_a_viewer_sees_the_panel_without_buttons(app, database):
    awaiting(database)
    viewer = signed_in(app, database, "vera", "viewer")
    html = viewer.get("/").text
    assert 'id="approval-panel"' in html
    assert 'data-action="approve"' not in html and 'data-action="take-control"' not in html
    assert viewer.post("/ui/controls", data={"target": "spacecraft"},
                       headers=HTMX).status_code == 403


def test_the_polled_panel_answers_204_while_nothing_changed(app, database):
    bob = signed_in(app, database, "bob")
    first = bob.get("/ui/approvals", headers=HTMX)
    version = first.text.split('data-version="')[1].split('"')[0]
    assert bob.get(f"/ui/approvals?since={version}", headers=HTMX).status_code == 204
    awaiting(database)
    assert bob.get(f"/ui/approvals?since={version}", headers=HTMX).status_code == 200
