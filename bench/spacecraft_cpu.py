"""CPU per uplink call inside the spacecraft app (no HTTP server, no other process measured).

Usage: python -m bench.spacecraft_cpu [N]   (PostgreSQL at TEST_POSTGRES_ADMIN_URL; a
throwaway database is created and dropped). Prints the CPU this process spends per POST
/commands and per first GET /commands/{id} (which executes the command).
"""

from __future__ import annotations

import logging
import os
import resource
import sys
import uuid

from bench.common import BenchDatabase

from mission_control.db import Database
from mission_control.settings import Settings
from spacecraft.app import create_app

ADMIN_URL = os.environ.get("TEST_POSTGRES_ADMIN_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test")


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main(count: int) -> None:
    bench_db = BenchDatabase(ADMIN_URL)
    try:
        logging.disable(logging.CRITICAL)
        bench_db.migrate()
        database = Database(bench_db.url)
        client = create_app(Settings(database_url=bench_db.url, max_stage_delay_s=0, execution_failure_rate=0),
                            database=database).test_client()
        for phase in ("warm-up", "measured"):
            ids = [str(uuid.uuid4()) for _ in range(count)]
            start = cpu_seconds()
            for command_id in ids:
                response = client.post("/commands", json={"id": command_id, "command_name": "CAPTURE_IMAGE",
                                                          "args": {"exposure_ms": 5}})
                assert response.status_code == 202, response.text
            posted = cpu_seconds()
            for command_id in ids:
                assert client.get(f"/commands/{command_id}").json["state"] == "EXECUTED"
            polled = cpu_seconds()
        print(f"{count} commands: POST {1000 * (posted - start) / count:.2f} ms CPU, "
              f"first GET {1000 * (polled - posted) / count:.2f} ms CPU (this process only)")
        database.dispose()
    finally:
        bench_db.drop()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
