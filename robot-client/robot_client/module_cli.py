"""``robot-client module MODULE_ID``: a module reporting its status changes to its robot.

The robot is found through registry-api (module -> robot -> ip_address and port); each
status typed is POSTed to the robot's listener as ``{"module_id", "status"}``.
"""

from __future__ import annotations

from typing import Any

import requests

from mission_control.settings import Settings

from .prompts import ask
from .registry import RegistryError, is_uuid
from .signin import registry
from .simulation import STATUSES

PROMPT = f"Enter new status ({', '.join(STATUSES)}): "
TIMEOUT_S = 5


def robot_url(robot: dict[str, Any]) -> str:
    host = robot["ip_address"]
    host = f"[{host}]" if ":" in host else host  # an IPv6 address
    return f"http://{host}:{robot['port']}/modules/status"


def send(url: str, module_id: str, status: str) -> tuple[bool, str]:
    """(sent, the robot's last_online for the module or why it was not sent)."""
    try:
        response = requests.post(url, json={"module_id": module_id, "status": status},
                                 timeout=TIMEOUT_S)
    except requests.RequestException as error:
        return False, f"the robot is unreachable ({type(error).__name__}): is its " \
                      "robot-client running?"
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code != 200:
        return False, f"the robot refused it ({response.status_code} " \
                      f"{body.get('message', '') if isinstance(body, dict) else ''})"
    return True, body.get("last_online", "")


def module_loop(module_id: str, settings: Settings) -> int:
    """Ask statuses until EOF; each valid one goes to the module's robot."""
    if not is_uuid(module_id):
        print(f"{module_id!r} is not a module id (a UUID).")
        return 2
    client = registry(settings)
    try:
        module = client.get("modules", module_id)
        robot = client.get("robots", module["robot_id"])
    except RegistryError as error:
        print(f"No module {module_id}: {error}" if error.status == 404 else
              f"registry-api refused: {error}")
        return 1
    if not robot["ip_address"] or not robot["port"]:
        print(f"Robot {robot['name']} has no ip_address and port in the registry: nowhere to "
              "send the module's status.")
        return 1
    url = robot_url(robot)
    print(f"Module {module['name']} of robot {robot['name']} ({robot['ip_address']}:"
          f"{robot['port']}). Ctrl-D or Ctrl-C ends.")
    while True:
        status = ask(PROMPT).upper()
        if status not in STATUSES:
            print(f"Invalid status: type one of {', '.join(STATUSES)}.")
            continue
        sent, said = send(url, module["id"], status)
        print(f"Updated -> status={status}, last_online={said}" if sent else
              f"Not updated: {said}")
