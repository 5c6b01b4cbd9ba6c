"""The uplink protocol: receipt, idempotent re-sends, execution at most once, the state.

Execution is the executor's (run here by ``run_executor``); reads only report."""

from __future__ import annotations

from mission_control.models import UplinkedCommand


def test_received_command_is_acknowledged(client, command):
    body = command("PING")
    response = client.post("/commands", json=body)
    assert response.status_code == 202
    answer = response.get_json()
    assert answer["id"] == body["id"]
    assert answer["state"] == "RECEIVED"
    assert answer["executions"] == 0
    assert answer["acknowledged"] is True
    assert answer["received_at"]


def test_resent_command_executes_once(client, command, run_executor):
    body = command("CAPTURE_IMAGE", {"exposure_ms": 10})
    for _ in range(10):
        assert client.post("/commands", json=body).status_code == 202
        run_executor()

    report = client.get(f"/commands/{body['id']}").get_json()
    assert report["state"] == "EXECUTED"
    assert report["executions"] == 1
    assert report["receipts"] == 10
    assert client.get("/state").get_json()["images_captured"] == 1


def test_resend_after_execution_answers_the_outcome(client, command, run_executor):
    body = command("PING")
    first = client.post("/commands", json=body).get_json()
    run_executor()

    again = client.post("/commands", json=body)
    assert again.status_code == 202
    answer = again.get_json()
    assert answer == {**first, "state": "EXECUTED", "executions": 1}


def test_resend_with_other_content_does_not_replace_the_command(client, command, run_executor):
    body = command("PING")
    client.post("/commands", json=body)
    client.post("/commands", json={**body, "command_name": "REBOOT", "confirmed_by": "operator"})
    run_executor()

    report = client.get(f"/commands/{body['id']}").get_json()
    assert report["command_name"] == "PING"
    assert report["receipts"] == 2
    assert client.get("/state").get_json()["boot_count"] == 0


def test_polled_command_reports_its_execution(client, command, run_executor):
    body = command("PING")
    client.post("/commands", json=body)
    run_executor()

    report = client.get(f"/commands/{body['id']}").get_json()
    assert report["id"] == body["id"]
    assert report["command_name"] == "PING"
    assert report["state"] == "EXECUTED"
    assert report["detail"] is None
    assert report["executions"] == 1
    assert report["receipts"] == 1
    assert report["finished_at"] >= report["received_at"]


def test_command_waits_until_its_stage_delay_has_passed(make_app, command):
    app = make_app(max_stage_delay_s=10 ** 9)
    client = app.test_client()
    body = command("SET_HEATER", {"on": True})
    client.post("/commands", json=body)
    assert app.extensions["executor"].run_once() == 0

    report = client.get(f"/commands/{body['id']}").get_json()
    state = client.get("/state").get_json()
    assert report["state"] == "RECEIVED"
    assert report["executions"] == 0
    assert report["finished_at"] is None
    assert state["heater_on"] is False
    assert state["commands"] == {"received": 1, "executed": 0, "failed": 0}


def test_certain_failure_fails_the_command_with_its_detail(make_app, command):
    app = make_app(execution_failure_rate=1)
    client = app.test_client()
    body = command("SET_HEATER", {"on": True})
    client.post("/commands", json=body)
    app.extensions["executor"].run_until_idle()

    report = client.get(f"/commands/{body['id']}").get_json()
    assert report["state"] == "FAILED"
    assert report["detail"] == "simulated execution failure"
    assert report["executions"] == 1
    state = client.get("/state").get_json()
    assert state["heater_on"] is False
    assert state["commands"] == {"received": 1, "executed": 0, "failed": 1}


def test_executed_commands_change_the_state(client, command, run_executor):
    commands = [
        command("SET_HEATER", {"on": True}),
        command("ADJUST_ATTITUDE", {"roll": 10.5, "pitch": -20, "yaw": 170}),
        command("CAPTURE_IMAGE", {"exposure_ms": 100}),
        command("CAPTURE_IMAGE", {"exposure_ms": 200}),
        command("DEPLOY_SOLAR_ARRAY"),
    ]
    for body in commands:
        client.post("/commands", json=body)
        run_executor()
        assert client.get(f"/commands/{body['id']}").get_json()["state"] == "EXECUTED"

    state = client.get("/state").get_json()
    assert state["heater_on"] is True
    assert state["attitude"] == {"roll": 10.5, "pitch": -20.0, "yaw": 170.0}
    assert state["images_captured"] == 2
    assert state["solar_array_deployed"] is True
    assert state["boot_count"] == 0
    assert state["commands"] == {"received": 5, "executed": 5, "failed": 0}
    assert state["updated_at"]


def test_reboot_counts_a_boot_and_switches_the_heater_off(client, command, run_executor):
    for body in (command("SET_HEATER", {"on": True}), command("REBOOT")):
        client.post("/commands", json=body)
        run_executor()

    state = client.get("/state").get_json()
    assert state["boot_count"] == 1
    assert state["heater_on"] is False


def test_second_solar_array_deployment_fails(client, command, run_executor):
    first, second = command("DEPLOY_SOLAR_ARRAY"), command("DEPLOY_SOLAR_ARRAY")
    client.post("/commands", json=first)
    run_executor()
    assert client.get(f"/commands/{first['id']}").get_json()["state"] == "EXECUTED"

    client.post("/commands", json=second)
    run_executor()
    report = client.get(f"/commands/{second['id']}").get_json()
    assert report["state"] == "FAILED"
    assert report["detail"] == "solar array already deployed"
    assert report["executions"] == 1
    assert client.get("/state").get_json()["solar_array_deployed"] is True


def test_executor_runs_due_commands_oldest_first(client, command, run_executor):
    # The heater ends up on only if the later command (on) runs after the earlier one (off),
    # though both run in one pass.
    for on in (False, True):
        client.post("/commands", json=command("SET_HEATER", {"on": on}))
    assert run_executor() == 2

    state = client.get("/state").get_json()
    assert state["heater_on"] is True
    assert state["commands"] == {"received": 2, "executed": 2, "failed": 0}


def test_received_command_keeps_normalised_args_and_module(client, command, database):
    body = command("ADJUST_ATTITUDE", {"roll": 1, "pitch": 2, "yaw": 3}, module_id="camera-1")
    client.post("/commands", json=body)

    with database.transaction() as session:
        stored = session.get_one(UplinkedCommand, body["id"])
        assert stored.args == {"roll": 1.0, "pitch": 2.0, "yaw": 3.0}
        assert stored.module_id == "camera-1"
