"""CPU per command inside the spacecraft app (no HTTP server, no other process measured).

Usage: python -m bench.spacecraft_cpu [N]   (PostgreSQL at TEST_POSTGRES_ADMIN_URL; a
throwaway database is created and dropped). Prints the CPU this process spends per command
received singly (POST /commands) and in batches of UPLINK_BATCH_MAX, per command executed by
the executor's passes, and per command read by GET /commands/{id} and by POST /commands/query.
Every call carries the uplink key, as the command-sender's do.
"""

from __future__ import annotations

import logging
import os
import resource
import secrets
import sys
import uuid

from bench.common import BenchDatabase

from mission_control.db import Database
from mission_control.settings import Settings
from spacecraft.app import create_app

ADMIN_URL = os.environ.get("TEST_POSTGRES_ADMIN_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test")
BATCH = 500


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def body(command_id: str) -> dict:
    return {"id": command_id, "command_name": "CAPTURE_IMAGE", "args": {"exposure_ms": 5}}


def main(count: int) -> None:
    bench_db = BenchDatabase(ADMIN_URL)
    try:
        logging.disable(logging.CRITICAL)
        bench_db.migrate()
        database = Database(bench_db.url)
        key = secrets.token_urlsafe(32)
        app = create_app(Settings(database_url=bench_db.url, max_stage_delay_s=0, execution_failure_rate=0,
                                  uplink_batch_max=BATCH, uplink_key=key),
                         database=database, executor_on_demand=False)
        client, executor = app.test_client(), app.extensions["executor"]
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {key}"
        for phase in ("warm-up", "measured"):
            singles = [str(uuid.uuid4()) for _ in range(count)]
            batched = [str(uuid.uuid4()) for _ in range(count)]
            costs = {}
            start = cpu_seconds()
            for command_id in singles:
                assert client.post("/commands", json=body(command_id)).status_code == 202
            costs["POST single"], start = cpu_seconds() - start, cpu_seconds()
            for first in range(0, count, BATCH):
                commands = [body(i) for i in batched[first:first + BATCH]]
                assert client.post("/commands", json={"commands": commands}).status_code == 202
            costs["POST batch"], start = cpu_seconds() - start, cpu_seconds()
            assert executor.run_until_idle() == 2 * count
            costs["execution"], start = (cpu_seconds() - start) / 2, cpu_seconds()
            for command_id in singles:
                assert client.get(f"/commands/{command_id}").json["state"] == "EXECUTED"
            costs["GET"], start = cpu_seconds() - start, cpu_seconds()
            for first in range(0, count, BATCH):
                answer = client.post("/commands/query", json={"ids": batched[first:first + BATCH]})
                assert len(answer.json["commands"]) == len(batched[first:first + BATCH])
            costs["query"] = cpu_seconds() - start
        print(f"{count} commands, ms CPU per command (this process only): "
              + ", ".join(f"{name} {1000 * cost / count:.3f}" for name, cost in costs.items()))
        database.dispose()
    finally:
        bench_db.drop()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
