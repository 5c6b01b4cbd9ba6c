"""``robot-client``: the robot CLI, the module CLI and the fleet simulator (docs/robot-client.md).

No arguments: create a robot when none exists, else pick one and run it. ``create``,
``add-module ROBOT``, ``run ROBOT_ID``, ``module MODULE_ID``, ``fleet --count N``.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from typing import Any

from mission_control.logs import configure_logging
from mission_control.settings import Settings, get_settings

from . import prompts
from .fleet import fleet_password, idle, numbered, register, register_when_up, run_fleet
from .module_cli import module_loop
from .mqtt_publisher import NoBroker, broker_of
from .registry import Registry, RegistryError, RegistryUnreachable, is_uuid
from .run import run_robot
from .signin import NoCredentials, admin_registry, registry


def create_robot(client: Registry) -> tuple[dict[str, Any], str]:
    """The robot registered through the form, and its password."""
    sent: dict[str, Any] = {}

    def submit(body: dict[str, Any]) -> dict[str, Any]:
        sent.update(body)
        return client.create("robots", body)

    robot = prompts.fill(prompts.ROBOT, submit)
    print(f"Created robot {robot['name']} with id {robot['id']}")
    return robot, sent["password"]


def add_module(client: Registry, given: str) -> int:
    robot = client.find_robot(given)
    if robot is None:
        print(f"No robot with id or name {given!r}.")
        return 1
    module = prompts.fill(prompts.MODULE, lambda body: client.create("modules", body),
                          robot_id=robot["id"])
    print(f"Created module {module['name']} with id {module['id']} on robot {robot['name']}")
    return 0


def robot_password(settings: Settings) -> str:
    if settings.robot_password is not None and settings.robot_password.get_secret_value():
        return settings.robot_password.get_secret_value()
    return getpass.getpass("Robot password: ")


def run(robot_id: str, settings: Settings, password: str | None = None,
        transport: str = "http") -> int:
    if not is_uuid(robot_id):
        print(f"{robot_id!r} is not a robot id (a UUID).")
        return 2
    password = password or robot_password(settings)
    return asyncio.run(run_robot(robot_id, password, settings, transport))


def pick_and_run(settings: Settings) -> int:
    """The old robot CLI: create a robot when none exists, else choose one; then run it."""
    client = registry(settings)
    robots = list(client.each("robots"))
    if not robots:
        print("No robot is registered yet: create one.")
        robot, password = create_robot(client)
        return run(robot["id"], settings, password)
    print("Robots:")
    for robot in robots:
        print(f"  {robot['id']}  {robot['name']}  ({robot['connection']}, {robot['status']})")
    while True:
        given = prompts.ask("Robot to run (UUID or name): ")
        chosen = next((r for r in robots if given in (r["id"], r["name"])), None)
        if chosen is not None:
            return run(chosen["id"], settings)
        print("No robot with that id or name: type one from the list.")


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="robot-client", description="Simulated robots and "
                                  "modules of Mission Control (docs/robot-client.md).")
    commands = top.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("create", help="register a robot (interactive; an admin's token)")
    add = commands.add_parser("add-module", help="register a module of a robot (interactive)")
    add.add_argument("robot", metavar="ROBOT", help="the robot's id or name")
    run_it = commands.add_parser("run", help="run a robot: session, heartbeats, commands, "
                                             "module listener")
    run_it.add_argument("robot_id", metavar="ROBOT_ID")
    transport(run_it)
    module = commands.add_parser("module", help="report a module's status to its robot")
    module.add_argument("module_id", metavar="MODULE_ID")
    fleet = commands.add_parser("fleet", help="simulate N robots in this process")
    which = fleet.add_mutually_exclusive_group(required=True)
    which.add_argument("--count", type=int, metavar="N")
    which.add_argument("--names", metavar="NAME,NAME,...",
                       help="these robots (registered or adopted by name) instead of N new ones")
    fleet.add_argument("--prefix", default="fleet", metavar="NAME",
                       help="robots are named NAME-0001, ... (default: fleet); with --names, "
                            "the name of the fleet's password and id files")
    fleet.add_argument("--demo", action="store_true",
                       help="unattended (make run): wait up to a minute for registry-api, and "
                            "when the fleet cannot start, say why and idle instead of exiting")
    transport(fleet)
    return top


def transport(command: argparse.ArgumentParser) -> None:
    command.add_argument("--transport", choices=("http", "mqtt"), default="http",
                         help="how heartbeats travel: http (POST to robot-server, the "
                              "default) or mqtt (published to MQTT_URL's broker); sessions "
                              "and commands use HTTP either way")


def dispatch(args: argparse.Namespace, settings: Settings) -> int:
    if getattr(args, "transport", "http") == "mqtt":
        broker_of(settings)  # NoBroker before any prompt or registration
    if args.command == "run":
        return run(args.robot_id, settings, transport=args.transport)
    if args.command == "module":
        return module_loop(args.module_id, settings)
    if args.command == "fleet":
        return fleet_command(args, settings)
    if args.command == "create":
        create_robot(registry(settings))
        return 0
    if args.command == "add-module":
        return add_module(registry(settings), args.robot)
    return pick_and_run(settings)


def fleet_command(args: argparse.Namespace, settings: Settings) -> int:
    if args.names is not None:
        names = list(dict.fromkeys(n.strip() for n in args.names.split(",") if n.strip()))
    elif 1 <= args.count <= 100_000:
        names = numbered(args.prefix, args.count)
    else:
        names = []
    if not 1 <= len(names) <= 100_000:
        print("--count must be between 1 and 100000; --names must name at least one robot.")
        return 2
    password = fleet_password(settings, args.prefix)
    state = settings.var_dir / f"fleet-{args.prefix}.json"
    if not args.demo:
        return asyncio.run(run_fleet(register(admin_registry(settings), names, password, state),
                                     password, settings, args.transport))
    try:
        ids = register_when_up(lambda: register(admin_registry(settings), names, password, state))
    except (RegistryUnreachable, NoCredentials, RegistryError) as error:
        print(f"robot-client: the demo fleet stays off: {error}", file=sys.stderr)
        return idle()
    return asyncio.run(run_fleet(ids, password, settings, args.transport))


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    settings = get_settings()
    configure_logging("robot-client", settings.log_level, settings.log_format)
    try:
        status = dispatch(args, settings)
    except (KeyboardInterrupt, EOFError) as ended:  # Ctrl-C or Ctrl-D at a prompt
        print()
        status = 130 if isinstance(ended, KeyboardInterrupt) else 0
    except (RegistryUnreachable, NoCredentials) as error:
        print(f"robot-client: {error}", file=sys.stderr)
        status = 1
    except NoBroker as error:
        print(f"robot-client: {error}", file=sys.stderr)
        status = 2
    except RegistryError as error:
        print(f"robot-client: registry-api refused ({error.status}): {error}", file=sys.stderr)
        status = 1
    sys.exit(status)
