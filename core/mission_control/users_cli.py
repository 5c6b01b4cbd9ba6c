"""``mc-users``: manage users and API tokens from the shell of a machine with the database.

    mc-users create NAME --role ROLE [--password-stdin]
    mc-users list
    mc-users set-role NAME ROLE
    mc-users disable NAME
    mc-users enable NAME
    mc-users set-password NAME [--password-stdin]
    mc-users token NAME [--label L] [--expires-in SECONDS]

Passwords are asked twice without echo (getpass), or read from the first line of standard
input with --password-stdin. A token is printed once, alone on standard output, so that
``TOKEN=$(mc-users token ada)`` works; it cannot be shown again.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from sqlalchemy.exc import IntegrityError

from . import auth, users
from .auth import MAX_TOKEN_TTL_S, ROLES
from .db import Database
from .logs import configure_logging
from .passwords import hash_password
from .settings import get_settings


def _password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Password again: ") != password:
            raise SystemExit("the passwords differ; nothing was changed")
    problem = users.password_problem(password)
    if problem:
        raise SystemExit(f"{problem}; nothing was changed")
    return password


def _create(database: Database, options) -> str:
    problem = users.username_problem(options.name)
    if problem:
        raise SystemExit(problem)
    password_hash = hash_password(_password(options.password_stdin))
    try:
        with database.transaction() as session:
            user = users.create(session, options.name, options.role, password_hash)
            return f"created {user.username} ({user.role})"
    except IntegrityError:
        raise SystemExit(f"a user named {options.name!r} exists already") from None


def _list(database: Database, _options) -> str:
    with database.transaction() as session:
        rows = [f"{u.username:<24} {u.role:<9} {'disabled' if u.disabled else 'active':<9} "
                f"{u.id}" for u in users.all_users(session)]
    return "\n".join([f"{'USERNAME':<24} {'ROLE':<9} {'STATE':<9} ID", *rows])


def _change(database: Database, name: str, **change) -> str:
    with database.transaction() as session:
        user = users.update(session, users.find(session, username=name), **change)
        return f"{user.username}: {user.role}, {'disabled' if user.disabled else 'active'}"


def _token(database: Database, options) -> str:
    with database.transaction() as session:
        user = users.find(session, username=options.name)
        if user.disabled:
            raise SystemExit(f"{user.username} is disabled; enable them first")
    _, secret = auth.issue_token(database, user.id, label=options.label,
                                 expires_in_s=options.expires_in)
    return secret


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="mc-users", description="Manage Mission Control's users.")
    top.add_argument("--database-url", default=None, help="defaults to DATABASE_URL")
    commands = top.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create", help="create a user")
    create.add_argument("name")
    create.add_argument("--role", choices=ROLES, required=True)
    create.add_argument("--password-stdin", action="store_true")
    commands.add_parser("list", help="list users")
    set_role = commands.add_parser("set-role", help="change a user's role")
    set_role.add_argument("name")
    set_role.add_argument("role", choices=ROLES)
    for name, text in (("disable", "refuse a user's sign-ins and tokens"),
                       ("enable", "let a disabled user sign in again")):
        commands.add_parser(name, help=text).add_argument("name")
    set_password = commands.add_parser("set-password", help="set a user's password")
    set_password.add_argument("name")
    set_password.add_argument("--password-stdin", action="store_true")
    token = commands.add_parser("token", help="print a new API token for a user (once)")
    token.add_argument("name")
    token.add_argument("--label", default="mc-users")
    token.add_argument("--expires-in", type=int, default=None, metavar="SECONDS")
    return top


def main(argv: list[str] | None = None) -> None:
    options = parser().parse_args(argv)
    if options.command == "token" and options.expires_in is not None and \
            not 1 <= options.expires_in <= MAX_TOKEN_TTL_S:
        raise SystemExit(f"--expires-in must be between 1 and {MAX_TOKEN_TTL_S} seconds")
    configure_logging("mc-users", "WARNING")
    database = Database(options.database_url or get_settings().database_url)
    actions = {
        "create": lambda: _create(database, options),
        "list": lambda: _list(database, options),
        "set-role": lambda: _change(database, options.name, role=options.role),
        "disable": lambda: _change(database, options.name, disabled=True),
        "enable": lambda: _change(database, options.name, disabled=False),
        "set-password": lambda: _change(
            database, options.name, password_hash=hash_password(_password(options.password_stdin))),
        "token": lambda: _token(database, options),
    }
    try:
        print(actions[options.command]())
    except users.UserError as error:
        raise SystemExit(error.message) from None
    finally:
        database.dispose()


if __name__ == "__main__":
    main()
