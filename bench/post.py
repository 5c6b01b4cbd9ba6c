"""The POST phase: POST /api/telecommands requests per second, ground alone under gunicorn,
every request with the bearer token of the run's operator (as a client of the API sends it)."""

from __future__ import annotations

from pathlib import Path

import requests

from bench.common import FAST, BenchDatabase, CpuMeter, fmt, format_cpu, say, summary
from bench.loadgen import run_load
from tests.e2e.harness import start_system


def phase_post(db: BenchDatabase, logs: Path, concurrencies: list[int], threads: int,
               seconds: float, max_requests: int, clients: int, processes: int,
               credentials) -> dict:
    results = {}
    for concurrency in concurrencies:
        db.reset()
        say(f"post[WEB_CONCURRENCY={concurrency}, WEB_THREADS={threads}]: starting ground alone")
        system = start_system(db.url, logs, services=("ground",), credentials=credentials,
                              web_concurrency=str(concurrency), web_threads=str(threads), **FAST)
        try:
            url = f"{system.ground_url}/api/telecommands"
            for _ in range(8 * concurrency):         # fresh connections reach every gunicorn worker
                requests.post(url, json={"command_name": "PING"}, headers=system.headers("operator"),
                              timeout=10)
            say(f"post[{concurrency}]: {clients} keep-alive clients in {processes} processes, "
                f"up to {max_requests} requests or {seconds:g}s")
            meter = CpuMeter(system, db.name)
            load = run_load(system.ground_url, "/api/telecommands", {"command_name": "PING"},
                            processes=processes, threads=max(1, clients // processes),
                            max_requests=max_requests, max_seconds=seconds, on_start=meter.start,
                            headers=system.headers("operator"))
            cpu = meter.stop({"load generator": load.cpu_s})
            duration = load.finished - load.started if load.finished else 0.0
            stored = db.scalar("SELECT count(*) FROM telecommands")
            result = {
                "web_concurrency": concurrency, "web_threads": threads, "clients": clients,
                "authentication": "bearer token (operator)",
                "processes": processes, "requests": load.requests, "ok": load.ok,
                "errors": load.errors, "statuses": load.statuses,
                "error_samples": load.error_samples, "duration_s": round(duration, 3),
                "per_s": load.ok / duration if duration else None,
                "latency_ms": summary(load.latencies_ms), "rows_in_db": stored, "cpu": cpu,
                "cpu_ms_per_request": {k: round(1000 * v / max(1, load.ok), 2)
                                       for k, v in cpu["cpu_s"].items() if v},
            }
            results[str(concurrency)] = result
            say(f"post[{concurrency}]: {fmt(result['per_s'], digits=0)} POST/s, p50 "
                f"{fmt(result['latency_ms']['p50'], ' ms')}, p99 {fmt(result['latency_ms']['p99'], ' ms')}, "
                f"errors {load.errors} {load.error_samples[:3]}; {format_cpu(cpu)}")
        finally:
            system.stop_all()
    return results
