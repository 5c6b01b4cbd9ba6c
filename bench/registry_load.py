"""The registry phase's load runs (bench/registry.py): wrk or loadgen with the phase's
requests, the CPU each process group used meanwhile, and the figures of one run."""

from __future__ import annotations

from bench import wrk
from bench.common import BenchDatabase, CpuMeter, summary
from bench.loadgen import run_load
from bench.locks import LockSampler
from bench.registry_requests import wrk_requests
from bench.wrk import run_wrk


def measured(load, cpu: dict, **extra) -> dict:
    """A run's figures; wrk hands over a latency summary (its histogram's percentiles), loadgen
    every latency."""
    duration = load.finished - load.started if load.finished else 0.0
    latency = getattr(load, "latency_summary", None) or summary(load.latencies_ms)
    return {**extra, "requests": load.requests, "ok": load.ok, "errors": load.errors,
            "statuses": load.statuses, "error_samples": load.error_samples,
            "duration_s": round(duration, 3), "per_s": load.ok / duration if duration else None,
            "latency_ms": latency, "cpu": cpu,
            "cpu_ms_per_request": {k: round(1000 * v / max(1, load.ok), 2)
                                   for k, v in cpu["cpu_s"].items() if v}}


def choose_load_generator(choice: str) -> str:
    """``wrk`` or ``python`` for ``--load-generator auto|wrk|python``."""
    if choice == "python" or (choice == "auto" and wrk.find() is None):
        return "python"
    if wrk.find() is None:
        raise RuntimeError("--load-generator wrk: wrk is not installed (apt-get install wrk)")
    return "wrk"


def load_run(system, db: BenchDatabase, factory, *, processes: int, threads: int, max_requests: int,
          seconds: float, expect: int, sampler: LockSampler | None = None,
          generator: str = "python", role: str = "viewer"):
    """One run with ``generator``: wrk with ``processes`` threads and processes x threads
    connections, or loadgen with ``processes`` x ``threads`` clients; as the run's ``role``."""
    headers = system.headers(role)
    meter = CpuMeter(system, db.name)

    def begin() -> None:
        meter.start()
        if sampler is not None:
            sampler.start()

    if generator == "wrk":
        load = run_wrk(system.registry_url, wrk_requests(factory, headers), threads=processes,
                       connections=processes * threads, max_requests=max_requests,
                       max_seconds=seconds, expect=expect, on_start=begin)
    else:
        load = run_load(system.registry_url, processes=processes, threads=threads,
                        max_requests=max_requests, max_seconds=seconds, expect=expect,
                        on_start=begin, factory=factory, headers=headers)
    cpu = meter.stop({"load generator": load.cpu_s})
    return load, cpu


def generator_info(generator: str, load, processes: int, per_process: int) -> dict:
    if generator == "wrk":
        return {"name": "wrk", "version": wrk.version(), "threads": load.wrk["threads"],
                "connections": load.wrk["connections"], "ended_by": load.wrk["ended_by"],
                "latency": "wrk's histogram of every answer, with its coordinated-omission "
                           "correction"}
    return {"name": "python", "module": "bench/loadgen.py", "processes": processes,
            "threads_per_process": per_process,
            "latency": "every successful request, raw"}
