"""CPU per request inside the registry app (no HTTP server, no other process measured).

Usage: python -m bench.registry_cpu [N] [--profile get|list|post]   (PostgreSQL at
TEST_POSTGRES_ADMIN_URL; a throwaway database is created and dropped). Builds a level with 50
robots over the API, then calls the WSGI app directly N times for each of GET one robot, GET a
page of the level's 50 robots and POST a module, and prints the CPU this process spends per
request: Flask, pydantic, SQLAlchemy and psycopg2, without gunicorn, PostgreSQL or a client.
``--profile`` prints cProfile's top functions (by CPU time) for one of them instead.
This is the figure to compare before and after a change to the registry's own code, since it
varies less than the req/s of ``make bench`` on this VM (run it twice, alternating versions).
Every request carries an admin's bearer token, got from POST /api/auth/tokens (the token
check is part of the measured cost).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import logging
import os
import pstats
import secrets
import time

from bench.common import BenchDatabase
from werkzeug.test import EnvironBuilder

from mission_control.db import Database
from mission_control.settings import Settings
from mission_control.testing import add_user
from registry_api.app import create_app

ADMIN_URL = os.environ.get("TEST_POSTGRES_ADMIN_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test")
API = "/api/v1"


def _requests(client) -> dict:
    """One request factory per measured kind, over a fresh level of 50 robots; ``client``
    is signed in."""
    def created(path: str, body: dict) -> dict:
        response = client.post(f"{API}/{path}", json=body)
        assert response.status_code == 201, response.text
        return response.json

    workspace = created("workspaces", {"name": "cpu"})
    project = created("projects", {"name": "cpu", "workspace_id": workspace["id"]})
    level = created("levels", {"name": "cpu", "project_id": project["id"]})
    robots = [created("robots", {"name": f"r{i}", "level_id": level["id"], "owner": "Bench",
                                 "owner_email": "bench@example.com"})["id"] for i in range(50)]
    names = iter(range(10**9))
    return {
        "get": lambda n: ("GET", f"{API}/robots/{robots[n % 50]}", None, 200),
        "list": lambda n: ("GET", f"{API}/robots?level_id={level['id']}&limit=50", None, 200),
        "post": lambda n: ("POST", f"{API}/modules",
                           {"robot_id": robots[n % 50], "name": f"m{next(names)}", "type": "lidar",
                            "ip_address": "10.0.2.7", "port": 7001}, 201),
    }


def _signed_in(app, database: Database):
    """A test client with the bearer token of a new admin, signed in over the API."""
    password = secrets.token_urlsafe(16)
    add_user(database, "bench-admin", "admin", password=password)
    client = app.test_client()
    answer = client.post("/api/auth/tokens", json={"username": "bench-admin", "password": password})
    assert answer.status_code == 201, answer.text
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {answer.json['token']}"
    return client


def _call(app, method: str, path: str, body: dict | None, expect: int, headers: dict) -> None:
    environ = EnvironBuilder(method=method, path=path, json=body, headers=headers).get_environ()
    status: list[str] = []
    b"".join(app.wsgi_app(environ, lambda s, headers, exc_info=None: status.append(s)))
    assert status[0].startswith(str(expect)), status


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", nargs="?", type=int, default=2000)
    parser.add_argument("--profile", choices=("get", "list", "post"))
    options = parser.parse_args()
    bench_db = BenchDatabase(ADMIN_URL)
    try:
        logging.disable(logging.CRITICAL)
        bench_db.migrate()
        database = Database(bench_db.url)
        app = create_app(Settings(database_url=bench_db.url), database=database)
        client = _signed_in(app, database)
        headers = {"Authorization": client.environ_base["HTTP_AUTHORIZATION"]}
        kinds = _requests(client)
        for kind, request in kinds.items():
            if options.profile and kind != options.profile:
                continue
            for n in range(200):  # warm-up: pools, statement caches
                _call(app, *request(n), headers)
            profiler = cProfile.Profile(time.process_time) if options.profile else None
            start = time.process_time()
            if profiler:
                profiler.enable()
            for n in range(options.count):
                _call(app, *request(n), headers)
            if profiler:
                profiler.disable()
            spent = time.process_time() - start
            print(f"{kind:4}: {1000 * spent / options.count:.3f} ms CPU per request "
                  f"({options.count} requests, this process only)")
            if profiler:
                out = io.StringIO()
                pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(30)
                print(out.getvalue())
        database.dispose()
    finally:
        bench_db.drop()


if __name__ == "__main__":
    main()
