"""``make bench``'s telemetry phase, on PostgreSQL, ground alone under gunicorn:

1. ingest: POST /api/telemetry batches of ``--telemetry-batches`` points (default 1,000 and
   5,000) from a few keep-alive clients (``--telemetry-clients`` in two processes) for
   ``--telemetry-seconds``; points per second = accepted batches x batch size / duration. Each
   request's points are new (a series of their own), so nothing is skipped as a repeat.
2. the 24-hour chart: ``--telemetry-points`` (default 1,000,000) points over the last 24
   hours in ``--telemetry-series`` series (default 12: each a parameter sampled at about 1 Hz,
   as a robot's heartbeat), interleaved in time as producers write them, loaded with COPY;
   then GET /api/telemetry of one series for that window (default max_points 1,000: 2-minute
   buckets) ``--telemetry-queries`` times in a row as a viewer; p50/p95 of the round trip.
   The latest values (GET /api/telemetry/latest) are timed too. Then the worst case: all of
   the points in one series (about 11.6 Hz), charted the same way.
"""

from __future__ import annotations

import io
import json
import time
from datetime import timedelta
from pathlib import Path

import requests

from mission_control.telemetry_partitions import create_partition, partition_days
from mission_control.timeutil import utcnow
from tests.e2e.harness import start_system

from bench.common import CpuMeter, fmt, say, summary
from bench.loadgen import run_load

INGEST_TARGET, CHART_P95_MS = 20_000, 200.0


def add_arguments(parser) -> None:
    group = parser.add_argument_group("telemetry phase")
    group.add_argument("--telemetry-batches", default="1000,5000", help="points per request")
    group.add_argument("--telemetry-clients", type=int, default=4)
    group.add_argument("--telemetry-seconds", type=float, default=15.0)
    group.add_argument("--telemetry-points", type=int, default=1_000_000)
    group.add_argument("--telemetry-series", type=int, default=12)
    group.add_argument("--telemetry-queries", type=int, default=50)


class Batches:
    """A load factory (bench/loadgen.py): each request a batch of new points, made from one
    template by naming its series after the client and the request (cheap in the generator)."""

    def __init__(self, size: int) -> None:
        start = utcnow() - timedelta(minutes=10)
        points = [{"source": "bench", "parameter": "@SERIES@", "value": i * 0.5, "unit": "degC",
                   "time": (start + timedelta(milliseconds=i)).isoformat()} for i in range(size)]
        self.template = json.dumps({"points": points})

    def __call__(self, process: int, thread: int, n: int):
        return "POST", "/api/telemetry", \
            self.template.replace("@SERIES@", f"p{process}t{thread}n{n}").encode()


def _ingest(system, db, size: int, options) -> dict:
    meter = CpuMeter(system, db.name)
    load = run_load(system.ground_url, processes=2, threads=max(1, options.telemetry_clients // 2),
                    max_requests=1_000_000, max_seconds=options.telemetry_seconds,
                    on_start=meter.start, factory=Batches(size),
                    headers=system.headers("operator"))
    cpu = meter.stop({"load generator": load.cpu_s})
    duration = load.finished - load.started if load.finished else 0.0
    return {"batch": size, "clients": options.telemetry_clients, "requests": load.requests,
            "errors": load.errors, "error_samples": load.error_samples,
            "points_per_s": load.ok * size / duration if duration else None,
            "request_ms": summary(load.latencies_ms), "cpu": cpu}


def _load_day(db, source: str, count: int, series: int) -> None:
    """``count`` points of ``source`` over the last 24 hours, in ``series`` parameters
    interleaved in time, with COPY."""
    now = utcnow()
    with db.engine.begin() as connection:
        existing = set(partition_days(connection))
        for day in {(now - timedelta(days=1)).date(), now.date()} - existing:
            create_partition(connection, day)
    per_series = count // series
    step = 86_400.0 / per_series
    start = now - timedelta(days=1)
    buffer = io.StringIO()
    for i in range(per_series):
        at = (start + timedelta(seconds=i * step)).isoformat()
        for parameter in range(series):
            buffer.write(f"{source}\tp{parameter}\t{at}\t{20 + (i % 600) / 60}\tdegC\n")
    buffer.seek(0)
    raw = db.engine.raw_connection()
    try:
        with raw.cursor() as cursor:
            cursor.copy_expert('COPY telemetry_points (source, parameter, "time", value, unit) '
                               "FROM STDIN", buffer)
        raw.commit()
    finally:
        raw.close()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("VACUUM ANALYZE telemetry_points")


def _chart(system, db, source: str, options) -> dict:
    now = utcnow()
    params = {"source": source, "parameter": "p0",
              "since": (now - timedelta(days=1)).isoformat().replace("+00:00", "Z"),
              "until": now.isoformat().replace("+00:00", "Z")}
    viewer = system.headers("viewer")
    meter = CpuMeter(system, db.name)
    meter.start()
    chart, body = _timed_gets(f"{system.ground_url}/api/telemetry", params, viewer,
                              options.telemetry_queries)
    cpu = meter.stop()
    latest, _ = _timed_gets(f"{system.ground_url}/api/telemetry/latest", {"source": source},
                            viewer, options.telemetry_queries)
    buckets = body.get("buckets", [])
    # CPU per query: what the figure would be on an idle machine, give or take the waits.
    per_query = {k: round(1000 * v / len(chart), 1) for k, v in cpu["cpu_s"].items()
                 if k in ("ground", "postgresql")}
    return {"chart_ms": summary(chart), "latest_ms": summary(latest), "buckets": len(buckets),
            "bucket_s": body.get("bucket_s"), "points_in_buckets": sum(b["count"] for b in buckets),
            "cpu": cpu, "cpu_ms_per_query": per_query}


def _timed_gets(url: str, params: dict, headers: dict, count: int) -> tuple[list[float], dict]:
    times, body = [], {}
    with requests.Session() as session:
        for _ in range(count):
            began = time.perf_counter()
            response = session.get(url, params=params, headers=headers, timeout=30)
            times.append((time.perf_counter() - began) * 1000)
            response.raise_for_status()
            body = response.json()
    return times, body


def phase_telemetry(db, logs: Path, options, credentials) -> dict:
    say("telemetry: starting ground alone")
    system = start_system(db.url, logs, services=("ground",), credentials=credentials)
    result: dict = {"ingest": {}}
    try:
        for size in [int(n) for n in options.telemetry_batches.split(",") if n.strip()]:
            entry = _ingest(system, db, size, options)
            result["ingest"][str(size)] = entry
            say(f"telemetry: batches of {size}: {fmt(entry['points_per_s'], ' points/s', 0)}, "
                f"request p50 {fmt(entry['request_ms']['p50'], ' ms')}, errors {entry['errors']}")
        total, series = options.telemetry_points, options.telemetry_series
        for label, source, count in (("chart", "bench-chart", series),
                                     ("dense chart", "bench-dense", 1)):
            say(f"telemetry: loading {total:,} points over 24 h in {count} series (COPY)")
            began = time.monotonic()
            _load_day(db, source, total, count)
            entry = {"points": total, "series": count,
                     "load_s": round(time.monotonic() - began, 1), **_chart(system, db, source, options)}
            result[label] = entry
            say(f"telemetry: {label}, 24 h of one series of {total // count:,} points: p50 "
                f"{fmt(entry['chart_ms']['p50'], ' ms')}, p95 {fmt(entry['chart_ms']['p95'], ' ms')} "
                f"({entry['buckets']} buckets of {entry['bucket_s']} s)")
    finally:
        system.stop_all()
    return result


def table_rows(telemetry: dict, row) -> bool:
    """The telemetry rows of the report table; whether any request failed."""
    errors = 0
    for size, entry in telemetry["ingest"].items():
        rate = entry["points_per_s"]
        row(f"telemetry ingest, batches of {size} ({entry['clients']} clients)",
            fmt(rate, " points/s", 0), ">= 20,000 points/s", rate is not None and rate >= INGEST_TARGET)
        row("  request p50 / p99, errors", f"{fmt(entry['request_ms']['p50'], ' ms')} / "
            f"{fmt(entry['request_ms']['p99'], ' ms')}, {entry['errors']}")
        errors += entry["errors"]
    for label in ("chart", "dense chart"):
        entry = telemetry.get(label)
        if not entry:
            continue
        chart, per_series = entry["chart_ms"], entry["points"] // entry["series"]
        dense = label == "dense chart"
        row(f"telemetry 24 h chart, {entry['points']:,} points in {entry['series']} series "
            f"({per_series:,} charted), p50 / p95",
            f"{fmt(chart['p50'], ' ms')} / {fmt(chart['p95'], ' ms')}",
            "(worst case, no target)" if dense else "p95 <= 200 ms",
            None if dense else chart["p95"] is not None and chart["p95"] <= CHART_P95_MS)
        cpu = entry["cpu_ms_per_query"]
        row("  CPU per chart query: PostgreSQL / ground",
            f"{fmt(cpu.get('postgresql'), ' ms')} / {fmt(cpu.get('ground'), ' ms')}")
        row("  buckets (width), points in them; latest p50 / p95",
            f"{entry['buckets']} ({entry['bucket_s']} s), {entry['points_in_buckets']:,}; "
            f"{fmt(entry['latest_ms']['p50'], ' ms')} / {fmt(entry['latest_ms']['p95'], ' ms')}")
    return errors != 0
