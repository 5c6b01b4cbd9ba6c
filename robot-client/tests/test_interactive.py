"""The interactive commands on a pseudo-terminal, as a person uses them: prompts answered,
each invalid answer asked again with registry-api's reason, passwords never echoed."""

from __future__ import annotations

import time

import pexpect
import requests

from robot_client.testing import (
    PASSWORD, create_module, create_robot, interrupt, registry_get, spawn, start_robot,
)
from tests.e2e.harness import free_port, wait_for

NETWORK_PASSWORD = "network secret 42"


def answer_robot_form(child, name: str, port: int) -> None:
    """The create form, with four wrong answers among the right ones."""
    child.expect_exact("Robot name: ")
    child.sendline("")  # none: the registry says it is required
    child.expect_exact("Owner: ")
    child.sendline("Ada")
    child.expect_exact("Owner's email: ")
    child.sendline("not an email")
    child.expect_exact("Network SSID (empty: none): ")
    child.sendline("lab-net")
    child.expect_exact("Network password (empty: none): ")
    child.sendline(NETWORK_PASSWORD)
    child.expect_exact("Robot password: ")
    child.sendline(PASSWORD)
    child.expect_exact("Repeat robot password: ")
    child.sendline(PASSWORD + " typo")
    child.expect_exact("The two entries differ")
    child.expect_exact("Robot password: ")
    child.sendline(PASSWORD)
    child.expect_exact("Repeat robot password: ")
    child.sendline(PASSWORD)
    child.expect_exact("IP address [127.0.0.1]: ")
    child.sendline("")
    child.expect_exact("Port (empty: no module listener): ")
    child.sendline("99999")
    # Asked again, each with the registry's reason.
    child.expect(r"Robot name: Field required\r\nRobot name: ")
    child.sendline(name)
    child.expect(r"Owner's email: [^\r\n]*email[^\r\n]*\r\nOwner's email: ")
    child.sendline("ada@example.com")
    child.expect(r"Port \(empty: no module listener\): [^\r\n]*65535[^\r\n]*\r\n"
                 r"Port \(empty: no module listener\): ")
    child.sendline(str(port))
    child.expect(r"Created robot (\S+) with id ([0-9a-f-]{36})")


def assert_no_secret_shown(child, *secrets: str) -> None:
    shown = str(child.logfile_read)
    for secret in secrets:
        assert secret not in shown
    assert "Traceback" not in shown


def test_create_asks_again_what_the_registry_refuses_and_echoes_no_password(services):
    admin = services.users["admin"]
    child = spawn(services, "create")
    child.expect_exact("Username: ")
    child.sendline(admin.username)
    child.expect_exact("Password: ")
    child.sendline(admin.password)
    port = free_port()
    answer_robot_form(child, "rover-1", port)
    robot_id = child.match.group(2)
    child.expect(pexpect.EOF)
    assert child.wait() == 0
    robot = registry_get(services, "robots", robot_id)
    assert (robot["name"], robot["owner_email"], robot["port"]) == ("rover-1", "ada@example.com",
                                                                     port)
    assert robot["network_ssid"] == "lab-net" and robot["has_network_password"]
    opened = requests.post(f"{services.robot_server_url}/robots/{robot_id}/session",
                           json={"password": PASSWORD}, timeout=15)
    assert opened.status_code == 201  # the password typed is the robot's
    assert_no_secret_shown(child, admin.password, PASSWORD, NETWORK_PASSWORD)


def test_add_module_asks_again_for_a_taken_name_and_a_too_long_type(services):
    robot = create_robot(services, "rover-2")
    create_module(services, robot["id"], "arm")
    child = spawn(services, "add-module", "rover-2", mission_token=services.token("admin"))
    child.expect_exact("Module name: ")
    child.sendline("arm")
    child.expect_exact("Module type: ")
    child.sendline("x" * 60)
    child.expect(r"Module type: must be at most 50 characters long\r\nModule type: ")
    child.sendline("camera")
    child.expect(r"Module name: [^\r\n]*arm[^\r\n]*\r\nModule name: ")
    child.sendline("cam")
    child.expect(r"Created module cam with id ([0-9a-f-]{36}) on robot rover-2")
    module = registry_get(services, "modules", child.match.group(1))
    assert (module["robot_id"], module["type"]) == (robot["id"], "camera")
    assert child.wait() == 0


def test_no_arguments_creates_the_first_robot_and_runs_it(services):
    child = spawn(services, mission_token=services.token("admin"))
    child.expect_exact("No robot is registered yet: create one.")
    answer_robot_form(child, "first", free_port())
    robot_id = child.match.group(2)
    child.expect_exact("running; Ctrl-C stops it")
    wait_for(lambda: registry_get(services, "robots", robot_id)["connection"] == "online",
             timeout=20, message="the new robot online")
    child.sendintr()
    child.expect_exact("session closed")
    assert child.wait() == 0
    assert registry_get(services, "robots", robot_id)["connection"] == "offline"
    assert_no_secret_shown(child, PASSWORD, NETWORK_PASSWORD)


def test_no_arguments_lists_the_robots_and_runs_the_one_picked(services):
    robot = create_robot(services, "picked")
    create_robot(services, "other")
    child = spawn(services, mission_token=services.token("admin"))
    child.expect_exact(f"{robot['id']}  picked  (offline, IDLE)")
    child.expect_exact("Robot to run (UUID or name): ")
    child.sendline("nobody")
    child.expect_exact("No robot with that id or name")
    child.expect_exact("Robot to run (UUID or name): ")
    child.sendline("picked")
    child.expect_exact("Robot password: ")
    child.sendline(PASSWORD)
    child.expect_exact("running; Ctrl-C stops it")
    wait_for(lambda: registry_get(services, "robots", robot["id"])["connection"] == "online",
             timeout=20, message="the picked robot online")
    child.sendintr()
    assert child.wait() == 0
    assert registry_get(services, "robots", robot["id"])["connection"] == "offline"
    assert_no_secret_shown(child, PASSWORD)


def test_the_module_cli_reports_to_its_robot_and_says_plainly_when_it_is_gone(services,
                                                                              tmp_path):
    robot = create_robot(services, ip_address="127.0.0.1", port=free_port())
    module = create_module(services, robot["id"])
    process = start_robot(services, robot["id"], tmp_path / "robot.log")
    try:
        wait_for(lambda: registry_get(services, "robots", robot["id"])["connection"] ==
                 "online", timeout=20, message="robot online")
        child = spawn(services, "module", module["id"], mission_token=services.token("viewer"))
        child.expect_exact("Enter new status (RUNNING, IDLE, FAILED):")
        child.sendline("ON")
        child.expect_exact("Invalid status: type one of RUNNING, IDLE, FAILED.")
        child.expect_exact("Enter new status (RUNNING, IDLE, FAILED):")
        child.sendline("FAILED")
        child.expect(r"Updated -> status=FAILED, last_online=\d{4}-\d\d-\d\dT\S+")
        wait_for(lambda: registry_get(services, "modules", module["id"])["status"] == "FAILED",
                 timeout=10, message="the module FAILED in the registry")
    finally:
        assert interrupt(process) == 0
    child.expect_exact("Enter new status (RUNNING, IDLE, FAILED):")
    child.sendline("IDLE")
    child.expect(r"Not updated: the robot is unreachable[^\r\n]*\r\n")
    child.expect_exact("Enter new status (RUNNING, IDLE, FAILED):")
    child.sendeof()
    assert child.wait() == 0
    assert_no_secret_shown(child)


def test_the_module_cli_ends_on_ctrl_c_without_a_traceback(services):
    robot = create_robot(services, ip_address="127.0.0.1", port=free_port())
    module = create_module(services, robot["id"])
    child = spawn(services, "module", module["id"], mission_token=services.token("viewer"))
    child.expect_exact("Enter new status (RUNNING, IDLE, FAILED):")
    # As a person would, press Ctrl-C once the prompt waits for input. CPython's input()
    # writes the prompt and then starts its read(2): a SIGINT landing between the two (a
    # window of microseconds, wide on a loaded machine) only raises KeyboardInterrupt once the
    # read returns, i.e. at the next key; a test that sends it the instant the prompt shows
    # can hang there (it did once in CI).
    time.sleep(0.5)
    child.sendintr()
    child.expect(pexpect.EOF, timeout=20)
    assert child.wait() == 130
    assert_no_secret_shown(child)
