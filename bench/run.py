"""``make bench``: measure Mission Control on PostgreSQL with the real processes.

Three measurements, each against the real services started by the end-to-end harness
(tests/e2e/harness.py) on free loopback ports, in a throwaway PostgreSQL database:

1. pickup latency: POST /api/telecommands -> TRANSMITTED, commands posted one at a time;
2. throughput to a final state of a backlog of READY commands, with 1 and 2 command-senders,
   followed by a correctness check of every command (status, history, executions on board);
3. POST /api/telecommands requests per second under gunicorn (ground alone);
4. registry-api requests per second under gunicorn (bench/registry.py);
5. the robot fleet: N robots heartbeating with pending long polls against one robot-server,
   command delivery latency, sessions opened per second (bench/fleet.py);
6. telemetry: points ingested per second over HTTP in batches, and the 24-hour chart query
   over a million points (bench/telemetry.py);
7. mqtt: robots' telemetry over MQTT (the machine's Mosquitto) into the telemetry store, points
   stored per second (bench/mqtt_ingest.py);
8. fleet_command: a fleet-wide command (POST /api/batches) to 2,000 simulated robots, time until
   every target is final, and the roll-up's query time (bench/fleet_command.py).

Run from the repository root: ``python -m bench.run [options]`` (``make bench``).

Every request is authenticated as a user's would be: the harness runs mc-migrate with a random
ADMIN_PASSWORD, the admin creates an operator and a viewer (POST /api/users), and each signs in
for a bearer token (POST /api/auth/tokens); POSTs carry the operator's token, reads the
viewer's, registry writes the admin's; the command-senders present a random UPLINK_KEY to the
spacecraft. The report says so ("authenticated (bearer token)").

Everything (PostgreSQL, gunicorn, the worker, this load generator) shares this machine's
cores, which the report states. Results: a table on stdout, JSON in bench-results/.
Exit status: 0 when the run completed (targets met or not: it is a measurement), 1 on an
error or a correctness violation.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
from datetime import UTC, datetime

from sqlalchemy.engine import make_url

from bench import fleet, fleet_command, mqtt_ingest, registry, telemetry
from bench.common import FAST, RESULTS, BenchDatabase, code_version, fmt, format_cpu, machine, say
from bench.pipeline import phase_pickup, phase_throughput
from bench.post import phase_post
from tests.e2e.accounts import Credentials

AUTHENTICATION = ("authenticated (bearer token): POSTs as an operator, reads as a viewer, "
                  "registry writes as an admin, tokens from POST /api/auth/tokens; the "
                  "command-senders present UPLINK_KEY to the spacecraft")

# -- report ----------------------------------------------------------------------------------

def table(report: dict) -> tuple[list[tuple], bool]:
    """Rows of (metric, measured, target, met?) and whether a violation/error occurred."""
    rows: list[tuple] = []
    bad = bool(report["errors"])

    def row(metric, measured, target="", met=None):
        rows.append((metric, measured, target, "" if met is None else ("yes" if met else "NO")))

    pickup = report["phases"].get("pickup")
    if pickup:
        p = pickup["pickup_ms"]
        row("pickup POST->TRANSMITTED p50", fmt(p["p50"], " ms"), "<= 20 ms",
            p["p50"] is not None and p["p50"] <= 20)
        row("pickup POST->TRANSMITTED p95", fmt(p["p95"], " ms"))
        row("pickup POST->TRANSMITTED p99", fmt(p["p99"], " ms"), "<= 100 ms",
            p["p99"] is not None and p["p99"] <= 100)
        row("pickup POST->TRANSMITTED max", fmt(p["max"], " ms"))
        r = pickup["post_rtt_ms"]
        row("  POST round trip p50 / p99", f"{fmt(r['p50'], ' ms')} / {fmt(r['p99'], ' ms')}")
        f = pickup["created_to_final_ms"]
        row("  created -> EXECUTED p50 / p99", f"{fmt(f['p50'], ' ms')} / {fmt(f['p99'], ' ms')}")
        v = (pickup["verification"]["violations"] + pickup["verification"]["unfinished"]
             + pickup["post_errors"])
        row(f"  pickup run: violations + POST errors ({pickup['posted']} cmds)", fmt(v), "0", v == 0)
        bad |= v != 0
    throughput = report["phases"].get("throughput") or {}
    for replicas, t in throughput.items():
        rate = t["per_s_active_window"]
        row(f"throughput, {replicas} command-sender(s), {t['commands']} cmds",
            fmt(rate, " cmd/s", 0), ">= 1,000 cmd/s", rate is not None and rate >= 1000)
        row("  same, from process spawn (incl. start-up)", fmt(t["per_s_from_spawn"], " cmd/s", 0))
        for key, totals in (t.get("replica_time") or {}).items():
            if totals:
                row(f"  {key}: database / uplink / idle s",
                    f"{totals['db_s']:.1f} / {totals['http_s']:.1f} / {totals['idle_s']:.1f}"
                    f" ({totals['passes']} passes, {totals['batches']} batches)")
        v = t["verification"]["violations"]
        row(f"  violations ({replicas} replica(s))", fmt(v), "0", v == 0)
        if t["timed_out"]:
            row(f"  unfinished at the {t['timeout_s']:g}s time limit (rate is a lower bound)",
                fmt(t["commands"] - t["finished"]))
        bad |= v != 0
    posts = report["phases"].get("post") or {}
    for concurrency, p in posts.items():
        row(f"POST/s (bearer token), WEB_CONCURRENCY={concurrency} x {p['web_threads']} threads",
            fmt(p["per_s"], " req/s", 0), ">= 1,000 req/s", p["per_s"] is not None and p["per_s"] >= 1000)
        lat = p["latency_ms"]
        row(f"  latency p50 / p99 ({p['clients']} clients)",
            f"{fmt(lat['p50'], ' ms')} / {fmt(lat['p99'], ' ms')}")
        row(f"  errors ({p['requests']:,} requests)", fmt(p["errors"]), "0", p["errors"] == 0)
        bad |= p["errors"] != 0
    if report["phases"].get("registry"):
        bad |= registry.table_rows(report["phases"]["registry"], row)
    if report["phases"].get("fleet"):
        bad |= fleet.table_rows(report["phases"]["fleet"], row)
    if report["phases"].get("telemetry"):
        bad |= telemetry.table_rows(report["phases"]["telemetry"], row)
    if report["phases"].get("mqtt"):
        bad |= mqtt_ingest.table_rows(report["phases"]["mqtt"], row)
    if report["phases"].get("fleet_command"):
        bad |= fleet_command.table_rows(report["phases"]["fleet_command"], row)
    return rows, bad


def _cpu_entries(report: dict):
    for name, phase in report["phases"].items():
        entries = [("", phase)] if name == "pickup" else [(f"[{k}]", v) for k, v in phase.items()]
        for suffix, entry in entries:
            if isinstance(entry, dict) and entry.get("cpu"):
                yield name + suffix, entry


def print_report(report: dict, rows: list[tuple]) -> None:
    m = report["machine"]
    print()
    print(f"Mission Control benchmark, {report['started_at']}")
    print(f"machine: {m['nproc']} cores ({m['cpu_model']}), {m['memory_gb']} GB, Linux {m['kernel']}, "
          f"Python {m['python']}, PostgreSQL {report['postgresql']}")
    generator = (report["phases"].get("registry") or {}).get("load_generator")
    loads = "the Python load generator" + (" (wrk for the registry's GET, list and module POST runs)"
                                           if generator == "wrk" else "")
    print(f"NOTE: PostgreSQL, gunicorn, the command-sender(s) and {loads} all share "
          f"these {m['nproc']} cores (loopback only); numbers are for the whole system on one box.")
    print(f"settings: {report['settings']}")
    print(f"requests: {report['authentication']}")
    code = report["code"]
    print(f"code: commit {code['commit']}"
          + (f" + uncommitted changes in {', '.join(code['uncommitted_changes'])}"
             if code["uncommitted_changes"] else ""))
    others = [(name, entry["cpu"]["cores_busy"].get("other (not this bench)", 0.0))
              for name, entry in _cpu_entries(report)]
    busy_others = [f"{n} {c:.2f}" for n, c in others if c >= 0.25]
    if busy_others:
        print(f"WARNING: other processes on this machine used CPU during the run (cores): "
              f"{', '.join(busy_others)}; load average at start {m['loadavg_at_start']}. "
              f"Numbers are lower than on an idle machine.")
    widths = [max(len(str(r[i])) for r in rows + [("metric", "measured", "target", "met?")])
              for i in range(4)]
    header = ("metric", "measured", "target", "met?")
    line = "  ".join(h.ljust(w) for h, w in zip(header, widths))
    print()
    print(line)
    print("-" * len(line))
    for r in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths)))
    print()
    for label, entry in _cpu_entries(report):
        cpu = entry["cpu"]
        print(f"cpu {label}: {format_cpu(cpu)} over {cpu['wall_s']}s")
        per_unit = entry.get("cpu_ms_per_command") or entry.get("cpu_ms_per_request")
        if per_unit:
            unit = "command" if "cpu_ms_per_command" in entry else "request"
            parts = ", ".join(f"{k} {v:.2f}" for k, v in sorted(per_unit.items(), key=lambda kv: -kv[1])
                              if not k.startswith(("bench", "other")) and v >= 0.01)
            print(f"    CPU ms per {unit}: {parts}")
    for error in report["errors"]:
        print(f"ERROR: {error}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--phases",
                        default="pickup,throughput,post,registry,fleet,telemetry,mqtt,"
                                "fleet_command",
                        help="comma-separated subset of pickup,throughput,post,registry,fleet,"
                             "telemetry,mqtt,fleet_command")
    parser.add_argument("--pickup-count", type=int, default=200)
    parser.add_argument("--pickup-rate", type=float, default=20.0, help="commands per second")
    parser.add_argument("--throughput-count", type=int, default=5000)
    parser.add_argument("--replicas", default="1,2")
    parser.add_argument("--throughput-timeout", type=float, default=75.0, help="seconds per run")
    parser.add_argument("--no-analyze", action="store_true",
                        help="do not ANALYZE the backlog before the throughput runs")
    parser.add_argument("--post-seconds", type=float, default=20.0)
    parser.add_argument("--post-requests", type=int, default=20000)
    parser.add_argument("--post-clients", type=int, default=32)
    parser.add_argument("--post-processes", type=int, default=2)
    parser.add_argument("--web-concurrency", default="2,4")
    parser.add_argument("--web-threads", type=int, default=4)
    parser.add_argument("--admin-url", default=os.environ.get(
        "BENCH_POSTGRES_ADMIN_URL", os.environ.get(
            "TEST_POSTGRES_ADMIN_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test")),
        help="PostgreSQL database used to create and drop the throwaway one")
    registry.add_arguments(parser)
    fleet.add_arguments(parser)
    telemetry.add_arguments(parser)
    mqtt_ingest.add_arguments(parser)
    fleet_command.add_arguments(parser)
    options = parser.parse_args(argv)
    phases = [p.strip() for p in options.phases.split(",") if p.strip()]

    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    RESULTS.mkdir(exist_ok=True)
    logs = RESULTS / f"logs-{stamp}"
    report = {"started_at": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine(),
              "postgresql": None, "code": code_version(), "settings": {k.upper(): v for k, v in FAST.items()},
              "options": vars(options) | {"admin_url": make_url(options.admin_url).render_as_string()},
              "authentication": AUTHENTICATION, "phases": {}, "errors": [], "logs": str(logs)}
    credentials = Credentials()  # one set of users and keys for every phase's services
    say(f"{report['machine']['nproc']} cores ({report['machine']['cpu_model']}); "
        f"everything shares them; service logs in {logs}")
    began = time.monotonic()
    try:
        db = BenchDatabase(options.admin_url)
    except Exception as error:
        print(f"cannot create the bench database via {options.admin_url}: {error}", file=sys.stderr)
        return 1
    try:
        db.migrate()
        report["postgresql"] = db.version()
        say(f"database {db.name} on PostgreSQL {report['postgresql']} migrated")
        for name in phases:
            phase_logs = logs / name
            phase_logs.mkdir(parents=True, exist_ok=True)
            try:
                if name == "pickup":
                    report["phases"]["pickup"] = phase_pickup(
                        db, phase_logs, options.pickup_count, options.pickup_rate, credentials)
                elif name == "throughput":
                    report["phases"]["throughput"] = phase_throughput(
                        db, phase_logs, options.throughput_count,
                        [int(r) for r in options.replicas.split(",")], options.throughput_timeout,
                        credentials, analyze=not options.no_analyze)
                elif name == "post":
                    report["phases"]["post"] = phase_post(
                        db, phase_logs, [int(c) for c in options.web_concurrency.split(",")],
                        options.web_threads, options.post_seconds, options.post_requests,
                        options.post_clients, options.post_processes, credentials)
                elif name == "registry":
                    report["phases"]["registry"] = registry.phase_registry(db, phase_logs, options,
                                                                           credentials)
                elif name == "fleet":
                    report["phases"]["fleet"] = fleet.phase_fleet(db, phase_logs, options,
                                                                  credentials)
                elif name == "telemetry":
                    report["phases"]["telemetry"] = telemetry.phase_telemetry(
                        db, phase_logs, options, credentials)
                elif name == "mqtt":
                    report["phases"]["mqtt"] = mqtt_ingest.phase_mqtt(
                        db, phase_logs, options, credentials)
                elif name == "fleet_command":
                    report["phases"]["fleet_command"] = fleet_command.phase_fleet_command(
                        db, phase_logs, options, credentials)
                else:
                    report["errors"].append(f"unknown phase {name!r}")
            except Exception as error:
                traceback.print_exc()
                report["errors"].append(f"{name}: {type(error).__name__}: {error}")
    finally:
        try:
            db.drop()
        except Exception as error:
            report["errors"].append(f"dropping {db.name}: {error}")
    report["duration_s"] = round(time.monotonic() - began, 1)
    rows, bad = table(report)
    report["table"] = [dict(zip(("metric", "measured", "target", "met"), r)) for r in rows]
    print_report(report, rows)
    text_out = json.dumps(report, indent=2, default=str)
    (RESULTS / f"bench-{stamp}.json").write_text(text_out)
    (RESULTS / "latest.json").write_text(text_out)
    print(f"\nresults: {RESULTS / f'bench-{stamp}.json'} (and latest.json); "
          f"took {report['duration_s']}s")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
