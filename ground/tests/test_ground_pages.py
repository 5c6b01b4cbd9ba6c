"""The operators' web page: form, argument fields, live queue, cancel and detail, as HTML.

``app`` and ``client`` come from this folder's conftest (a ground app on the ``database``).
"""

from __future__ import annotations

import re
import uuid

import pytest
from sqlalchemy import func, select

from ground import telecommands
from ground.schemas import NewTelecommand
from mission_control import lifecycle
from mission_control.status import Status
from mission_control.models import Target, Telecommand

HTMX = {"HX-Request": "true"}


def issue(database, command_name: str = "PING", *, operator: str = "ann", **args) -> uuid.UUID:
    with database.transaction() as session:
        command, _ = telecommands.issue(
            session, NewTelecommand(command_name=command_name, args=args), operator=operator)
        return command.id


def advance(database, command_id: uuid.UUID, source: Status, target: Status) -> None:
    with database.transaction() as session:
        assert lifecycle.transition(session, command_id, source, target, actor="worker-1")


def commands(database) -> list[Telecommand]:
    with database.transaction() as session:
        return list(session.scalars(select(Telecommand)).all())


def count(database) -> int:
    with database.transaction() as session:
        return session.scalar(select(func.count()).select_from(Telecommand))


def add_target(database, target_id: str, kind: str, name: str,
               parent_id: str | None = None) -> None:
    with database.transaction() as session:
        session.add(Target(id=target_id, kind=kind, name=name, parent_id=parent_id))


def rows(html: str) -> dict[str, str]:
    """Queue rows by command id: their data-status."""
    return dict(re.findall(
        r'<tr id="cmd-[^"]+"[^>]*data-command-id="([^"]+)" data-status="([^"]+)"', html))


def row_html(html: str, command_id) -> str:
    match = re.search(rf'<tr id="cmd-{command_id}".*?</tr>', html, re.S)
    assert match, f"no row for {command_id}"
    return match.group(0)


def send(client, *, htmx: bool = True, **fields):
    data = {"target": "spacecraft", **fields}
    return client.post("/ui/telecommands", data=data, headers=HTMX if htmx else {})


# --- the page and its assets ---------------------------------------------------------------

def test_page_renders_send_form_with_the_catalog_commands(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    html = response.text
    assert 'id="send-form"' in html
    assert not re.search(r'<input[^>]*name="operator"', html)  # the session says who sends
    assert '<option value="spacecraft" selected>' in html
    for name in ("PING", "SET_HEATER", "ADJUST_ATTITUDE", "CAPTURE_IMAGE", "DEPLOY_SOLAR_ARRAY",
                 "REBOOT"):
        assert f'<option value="{name}"' in html
    assert 'id="queue-body"' in html and 'hx-trigger="every 1s' in html


def test_page_references_only_local_scripts_and_stylesheets(client):
    html = client.get("/").text
    assets = re.findall(r'<(?:script|link)\b[^>]*?(?:src|href)="([^"]+)"', html)
    assert any(a.endswith("/vendor/htmx.min.js") for a in assets)
    assert not [a for a in assets if re.match(r"(https?:)?//", a)]
    for asset in assets:
        response = client.get(asset)
        assert response.status_code == 200, asset
        response.close()


def test_vendored_htmx_is_version_2_with_its_licence(client):
    response = client.get("/static/vendor/htmx.min.js")
    assert b'version:"2.' in response.data
    response.close()
    licence = client.get("/static/vendor/htmx.LICENSE")
    assert licence.status_code == 200
    licence.close()


def test_page_lists_targets_grouped_and_addresses_modules_through_their_robot(client, database):
    add_target(database, "robot-7", "robot", "Rover 7")
    add_target(database, "robot-7-arm", "module", "Arm", parent_id="robot-7")
    html = client.get("/").text
    assert '<optgroup label="Robots">' in html and "Rover 7 › Arm" in html

    response = send(client, target="robot-7-arm", command_name="PING")
    assert response.status_code == 201
    [command] = commands(database)
    assert (command.target_id, command.module_id) == ("robot-7", "robot-7-arm")


def test_target_and_operator_names_are_escaped(client, database):
    add_target(database, "robot-x", "robot", "<b>Rover</b>")
    issue(database, operator="<script>alert(1)</script>")
    page = client.get("/").text
    assert "&lt;b&gt;Rover&lt;/b&gt;" in page and "<b>Rover</b>" not in page
    command_id = commands(database)[0].id
    detail = client.get(f"/telecommands/{command_id}").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in detail and "<script>alert" not in detail


# --- argument fields -----------------------------------------------------------------------

def test_args_fragment_renders_bounded_number_fields_for_adjust_attitude(client):
    response = client.get("/ui/args?target=spacecraft&command_name=ADJUST_ATTITUDE", headers=HTMX)
    assert response.status_code == 200
    html = response.text
    for name, low, high in (("roll", -180, 180), ("pitch", -90, 90), ("yaw", -180, 180)):
        field = re.search(rf'<input type="number" id="arg-{name}"[^>]*>', html, re.S).group(0)
        assert f'min="{low}"' in field and f'max="{high}"' in field and "required" in field
    assert 'name="confirm"' not in html


def test_args_fragment_asks_for_confirmation_of_reboot(client):
    html = client.get("/ui/args?target=spacecraft&command_name=REBOOT", headers=HTMX).text
    assert 'name="confirm"' in html and "Hazardous command" in html
    assert "takes no arguments" in html


def test_args_fragment_renders_a_checkbox_for_a_boolean_and_integer_step_for_an_integer(client):
    heater = client.get("/ui/args?target=spacecraft&command_name=SET_HEATER").text
    assert re.search(r'<input type="checkbox" id="arg-on" name="arg.on" value="true"', heater)
    image = client.get("/ui/args?target=spacecraft&command_name=CAPTURE_IMAGE").text
    field = re.search(r'<input type="number" id="arg-exposure_ms"[^>]*>', image, re.S).group(0)
    assert 'step="1"' in field and 'min="1"' in field and 'max="60000"' in field


def test_command_fields_follow_the_target_kind(client, database):
    add_target(database, "robot-7", "robot", "Rover 7")
    html = client.get("/ui/command-fields?target=robot-7").text
    assert '<option value="PING"' in html and "SET_HEATER" not in html


# --- sending -------------------------------------------------------------------------------

def test_submitting_a_valid_form_creates_a_ready_command(client, database):
    response = send(client, command_name="SET_HEATER", **{"arg.on": "true"})
    assert response.status_code == 201
    assert response.headers["HX-Trigger"] == "queue-refresh"
    [command] = commands(database)
    assert (command.command_name, command.status, command.args, command.operator) == \
        ("SET_HEATER", "READY", {"on": True}, "operator")  # the signed-in user
    assert f'data-command-id="{command.id}"' in response.text
    assert 'hx-swap-oob="afterbegin:#queue-body"' in response.text  # the row shows at once
    assert rows(response.text) == {str(command.id): "READY"}
    api = client.get(f"/api/telecommands/{command.id}").get_json()
    assert api["status"] == "READY"


def test_new_row_is_not_prepended_to_a_queue_filtered_on_another_status(client, database):
    response = send(client, command_name="PING", status="FAILED")
    assert response.status_code == 201 and rows(response.text) == {}


def test_form_values_are_converted_to_the_schema_types(client, database):
    assert send(client, command_name="ADJUST_ATTITUDE",
                **{"arg.roll": "12.5", "arg.pitch": "-4", "arg.yaw": "90"}).status_code == 201
    assert send(client, command_name="CAPTURE_IMAGE",
                **{"arg.exposure_ms": "250"}).status_code == 201
    assert send(client, command_name="SET_HEATER").status_code == 201  # unticked box: off
    by_name = {c.command_name: c.args for c in commands(database)}
    assert by_name["ADJUST_ATTITUDE"] == {"roll": 12.5, "pitch": -4.0, "yaw": 90.0}
    assert isinstance(by_name["CAPTURE_IMAGE"]["exposure_ms"], int)
    assert by_name["CAPTURE_IMAGE"] == {"exposure_ms": 250}
    assert by_name["SET_HEATER"] == {"on": False}


def test_invalid_arguments_are_shown_in_the_form_and_nothing_is_created(client, database):
    response = send(client, command_name="ADJUST_ATTITUDE",
                    **{"arg.roll": "10", "arg.pitch": "100", "arg.yaw": "north"})
    assert response.status_code == 422
    html = response.text
    assert 'id="send-form"' in html and "Invalid arguments for ADJUST_ATTITUDE" in html
    assert "less than or equal to 90" in html and "valid number" in html
    assert 'value="north"' in html  # what the operator typed is kept for correction
    assert count(database) == 0


def test_missing_required_argument_is_refused(client, database):
    response = send(client, command_name="CAPTURE_IMAGE")
    assert response.status_code == 422 and "Field required" in response.text
    assert count(database) == 0


def test_hazardous_command_without_confirmation_is_refused(client, database):
    response = send(client, command_name="REBOOT")
    assert response.status_code == 422
    assert "REBOOT is hazardous" in response.text
    assert count(database) == 0

    assert send(client, command_name="REBOOT", confirm="yes").status_code == 201
    assert [c.command_name for c in commands(database)] == ["REBOOT"]


def test_confirmation_is_not_kept_for_the_next_command(client):
    html = send(client, command_name="REBOOT", confirm="yes").text
    assert re.search(r'<input type="checkbox" id="confirm" name="confirm" value="yes"\s*>', html)


def test_the_sender_is_the_signed_in_user_whatever_the_form_says(client, database):
    response = send(client, operator="mallory", command_name="PING")
    assert response.status_code == 201
    [command] = commands(database)
    assert command.operator == "operator"
    history = client.get(f"/api/telecommands/{command.id}").get_json()["history"]
    assert [h["actor"] for h in history] == ["operator"]


def test_unknown_target_or_command_is_refused(client, database):
    assert "Unknown target" in send(client, target="nowhere", command_name="PING").text
    response = send(client, command_name="SELF_DESTRUCT")
    assert response.status_code == 422 and "unknown command" in response.text
    assert count(database) == 0


def test_no_operator_cookie_is_set_any_more(client):
    response = send(client, command_name="PING")
    assert response.status_code == 201 and "Set-Cookie" not in response.headers
    assert 'id="operator"' not in client.get("/").text


def test_form_works_without_javascript(client, database):
    response = send(client, htmx=False, command_name="PING")
    assert response.status_code == 303 and response.headers["Location"] == "/"
    refused = send(client, htmx=False, command_name="REBOOT")
    assert refused.status_code == 422
    assert "<html" in refused.text and "REBOOT is hazardous" in refused.text
    assert count(database) == 1


def test_form_post_from_another_site_is_refused(client, database):
    def post(**headers):
        data = {"target": "spacecraft", "command_name": "PING"}
        return client.post("/ui/telecommands", data=data, headers=headers)

    assert post(Origin="http://evil.example", **HTMX).status_code == 403
    assert post(**{"Sec-Fetch-Site": "cross-site"}).status_code == 403
    assert count(database) == 0
    same_origin = post(Origin="http://localhost", **{"Sec-Fetch-Site": "same-origin"}, **HTMX)
    assert same_origin.status_code == 201


# --- the queue -----------------------------------------------------------------------------

def test_queue_lists_commands_with_cancel_only_on_ready_rows(client, database):
    ready = issue(database, "PING")
    moving = issue(database, "SET_HEATER", on=True)
    advance(database, moving, Status.READY, Status.TRANSMITTED)
    html = client.get("/ui/queue", headers=HTMX).text
    assert rows(html) == {str(ready): "READY", str(moving): "TRANSMITTED"}
    assert 'data-action="cancel"' in row_html(html, ready)
    assert 'data-action="cancel"' not in row_html(html, moving)
    assert "badge-transmitted" in row_html(html, moving)
    assert html.index(str(moving)) < html.index(str(ready))  # newest first


def test_queue_filters_by_status(client, database):
    ready = issue(database)
    cancelled = issue(database)
    advance(database, cancelled, Status.READY, Status.CANCELLED)
    assert rows(client.get("/ui/queue?status=CANCELLED").text) == {str(cancelled): "CANCELLED"}
    assert rows(client.get("/ui/queue?status=READY").text) == {str(ready): "READY"}
    assert 'hx-get="/ui/queue?status=READY' in client.get("/ui/queue?status=READY").text
    assert rows(client.get("/?status=READY").text) == {str(ready): "READY"}


def test_queue_poll_answers_204_until_something_changes(client, database):
    command_id = issue(database)
    version = re.search(r'data-version="(\w+)"', client.get("/ui/queue").text).group(1)
    assert client.get(f"/ui/queue?since={version}").status_code == 204
    advance(database, command_id, Status.READY, Status.TRANSMITTED)
    changed = client.get(f"/ui/queue?since={version}")
    assert changed.status_code == 200 and rows(changed.text) == {str(command_id): "TRANSMITTED"}


def test_empty_queue_says_so(client):
    assert "No commands yet" in client.get("/ui/queue").text


# --- cancelling ----------------------------------------------------------------------------

def test_cancel_via_the_form_cancels_and_a_second_cancel_shows_the_conflict(client, database):
    command_id = issue(database)
    response = client.post(f"/ui/telecommands/{command_id}/cancel", headers=HTMX)
    assert response.status_code == 200
    assert rows(response.text) == {str(command_id): "CANCELLED"}
    assert 'data-action="cancel"' not in response.text
    assert 'hx-swap-oob="true"' in response.text and "Cancelled PING" in response.text
    [command] = commands(database)
    assert command.status == "CANCELLED"

    again = client.post(f"/ui/telecommands/{command_id}/cancel", headers=HTMX)
    assert again.status_code == 409
    assert "command is CANCELLED; only READY commands can be cancelled" in again.text
    assert rows(again.text) == {str(command_id): "CANCELLED"}

    history = client.get(f"/api/telecommands/{command_id}").get_json()["history"]
    assert [(h["to_status"], h["actor"]) for h in history] == \
        [("READY", "ann"), ("CANCELLED", "operator")]  # the signed-in user cancelled


def test_cancel_after_transmission_is_refused(client, database):
    command_id = issue(database)
    advance(database, command_id, Status.READY, Status.TRANSMITTED)
    response = client.post(f"/ui/telecommands/{command_id}/cancel", headers=HTMX)
    assert response.status_code == 409 and "command is TRANSMITTED" in response.text
    assert commands(database)[0].status == "TRANSMITTED"


def test_cancel_from_the_detail_page_rerenders_the_panel(client, database):
    command_id = issue(database)
    response = client.post(f"/ui/telecommands/{command_id}/cancel", data={"view": "detail"},
                           headers=HTMX)
    assert response.status_code == 200
    assert 'id="detail-panel"' in response.text and 'data-status="CANCELLED"' in response.text


def test_cancel_without_javascript_redirects_or_explains(client, database):
    command_id = issue(database)
    assert client.post(f"/ui/telecommands/{command_id}/cancel").status_code == 303
    refused = client.post(f"/ui/telecommands/{command_id}/cancel")
    assert refused.status_code == 409 and "only READY commands" in refused.text


def test_cancel_of_unknown_command_is_404(client):
    assert client.post(f"/ui/telecommands/{uuid.uuid4()}/cancel", headers=HTMX).status_code == 404
    assert client.post("/ui/telecommands/not-an-id/cancel", headers=HTMX).status_code == 404


# --- the detail view -----------------------------------------------------------------------

def test_detail_page_shows_arguments_status_and_full_history(client, database):
    command_id = issue(database, "ADJUST_ATTITUDE", roll=10.0, pitch=-5.0, yaw=0.0)
    advance(database, command_id, Status.READY, Status.TRANSMITTED)
    with database.transaction() as session:
        lifecycle.transition(session, command_id, Status.TRANSMITTED, Status.FAILED,
                             actor="worker-1", reason="target did not answer")
    response = client.get(f"/telecommands/{command_id}")
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.text
    assert "ADJUST_ATTITUDE" in html and str(command_id) in html
    assert re.search(r'data-arg="roll">.*?10\.0', html, re.S)
    assert 'data-status="FAILED"' in html
    assert re.findall(r'data-to-status="(\w+)"', html) == ["READY", "TRANSMITTED", "FAILED"]
    assert "worker-1" in html and "target did not answer" in html
    assert "hx-trigger" not in html.split('id="detail-panel"')[1].split(">")[0]  # final: no polling


def test_detail_of_an_active_command_keeps_polling_until_final(client, database):
    command_id = issue(database)
    html = client.get(f"/telecommands/{command_id}").text
    version = re.search(rf'/ui/telecommands/{command_id}\?since=(\w+)', html).group(1)
    assert 'hx-trigger="every 1s"' in html
    assert client.get(f"/ui/telecommands/{command_id}?since={version}").status_code == 204
    advance(database, command_id, Status.READY, Status.CANCELLED)
    fragment = client.get(f"/ui/telecommands/{command_id}?since={version}")
    assert fragment.status_code == 200 and 'data-status="CANCELLED"' in fragment.text
    assert "hx-trigger" not in fragment.text


@pytest.mark.parametrize("command_id", ["5b1f0c3e-9a4d-4c6e-8f21-7d3a2b9e0c14", "not-a-uuid"])
def test_detail_of_an_unknown_or_malformed_id_is_a_404_page(client, command_id):
    response = client.get(f"/telecommands/{command_id}")
    assert response.status_code == 404
    assert response.mimetype == "text/html" and "There is no telecommand" in response.text
    assert client.get(f"/ui/telecommands/{command_id}").status_code == 404
