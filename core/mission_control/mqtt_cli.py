"""``mc-mqtt``: Mosquitto's password file and ACL for the robots' MQTT (docs/mqtt.md).

    mc-mqtt passwd FILE USERNAME     add or change a user (a robot: its id), password asked
    mc-mqtt delete FILE USERNAME     remove a user
    mc-mqtt acl FILE [--server-user robot-server] [--gateway-user NAME ...]

``passwd`` reads the password from the terminal (twice), or one line from standard input with
``--stdin``. Mosquitto reads both files at start and again on SIGHUP.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from . import broker_files


def read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Password again: ") != first:
        raise ValueError("the two passwords differ")
    return first


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="mc-mqtt", description="Mosquitto's password file and "
                                  "ACL for Mission Control's robots (docs/mqtt.md).")
    commands = top.add_subparsers(dest="command", metavar="COMMAND", required=True)
    passwd = commands.add_parser("passwd", help="add or change a user of the password file")
    passwd.add_argument("file", type=Path)
    passwd.add_argument("username", help="a robot's id, or robot-server's user")
    passwd.add_argument("--stdin", action="store_true", help="read the password from stdin")
    delete = commands.add_parser("delete", help="remove a user from the password file")
    delete.add_argument("file", type=Path)
    delete.add_argument("username")
    acl = commands.add_parser("acl", help="write the ACL file")
    acl.add_argument("file", type=Path)
    acl.add_argument("--server-user", default=broker_files.SERVER_USER)
    acl.add_argument("--gateway-user", action="append", default=[],
                     help="a user that may publish for every robot (a fleet simulator)")
    return top


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    try:
        if args.command == "passwd":
            new = broker_files.set_password(args.file, args.username, read_password(args.stdin))
            print(f"{args.file}: {'added' if new else 'changed'} {args.username}")
        elif args.command == "delete":
            if not broker_files.delete_user(args.file, args.username):
                print(f"{args.file}: no user {args.username}", file=sys.stderr)
                sys.exit(1)
            print(f"{args.file}: removed {args.username}")
        else:
            broker_files.write_private(args.file, broker_files.acl_text(
                args.server_user, tuple(args.gateway_user)))
            print(f"{args.file}: written")
    except (ValueError, OSError) as error:
        print(f"mc-mqtt: {error}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
