"""The ``registry`` phase of ``make bench``: registry-api requests per second under gunicorn.

registry-api alone, on the bench's PostgreSQL database, for each WEB_CONCURRENCY (the post
phase's ``--web-concurrency``, ``--web-threads``):

1. set-up over HTTP: a workspace, a project, a level, then robots on that level, each with a
   password; the last ``--registry-timed-robots`` of them are POSTed by
   ``--registry-robot-clients`` concurrent clients and timed: robot POST is bounded by the
   argon2id hash of the password, on purpose (the report states the hash parameters);
2. three runs of ``--post-clients`` keep-alive clients for ``--registry-seconds`` each:
   GET /api/v1/robots/{id} (ids drawn at random among the robots),
   GET /api/v1/robots?level_id=<the level>&limit=50 (a page of 50 robots and the total),
   POST /api/v1/modules (unique names, robot_id drawn at random among the robots).

The load generator of those three runs (``--load-generator``, default ``auto``): wrk
(bench/wrk.py: C, a fraction of the CPU per request) when it is installed, else bench/loadgen.py
(http.client, 0.2-0.65 ms of CPU per request, taken from the cores the service needs). wrk
runs ``--post-processes`` threads with ``--post-clients`` connections; loadgen as many
processes with the clients shared among them. The robot POSTs (a handful, bound by the password
hash) always use loadgen.

During the module POST run a sampler counts the backends waiting for a heavyweight lock
(pg_stat_activity, any lock type, e.g. an advisory lock serialising writes, a row or a
transaction id), so the report shows whether locking, rather than the CPU, is the limit.

Every request is authenticated as a user's would be (bearer tokens from POST /api/auth/tokens,
made by the harness): set-up, robot and module POSTs as the run's admin (registry writes need
admin), the GET and list runs as its viewer.

The machinery (database, CPU accounting, load generators) is in common.py, loadgen.py and
wrk.py. Run this phase alone with ``python -m bench.run --phases registry [options]``.
"""

from __future__ import annotations

import time
from pathlib import Path

from bench import wrk
from bench.common import FAST, BenchDatabase, fmt, format_cpu, say
from bench.loadgen import FixedRequest
from bench.locks import LockSampler
from bench.registry_load import choose_load_generator, generator_info, load_run, measured
from bench.registry_requests import API, ModulePosts, RobotGets, RobotPosts, robot_body
from tests.e2e.harness import start_system

TARGET_GET_PER_S = 1500
TARGET_MODULE_POST_PER_S = 800
# The registry's tables, emptied before each WEB_CONCURRENCY's run; CASCADE empties the tables
# that reference them too (robot sessions, connection events, command progress, ...).
TABLES = ("registry_events, registry_modules, registry_fixed_assets, registry_robots, "
          "registry_levels, registry_projects, registry_workspaces")


def add_arguments(parser) -> None:
    group = parser.add_argument_group("registry phase (also uses --web-concurrency, --web-threads, "
                                      "--post-clients, --post-processes)")
    group.add_argument("--registry-seconds", type=float, default=12.0,
                       help="duration of each GET / list / module POST run")
    group.add_argument("--registry-requests", type=int, default=100000,
                       help="request cap of each run (the duration normally ends it)")
    group.add_argument("--registry-robots", type=int, default=50,
                       help="robots on the level (with a password each)")
    group.add_argument("--registry-timed-robots", type=int, default=40,
                       help="how many of those are POSTed concurrently and timed")
    group.add_argument("--registry-robot-clients", type=int, default=6,
                       help="concurrent clients POSTing the timed robots")
    group.add_argument("--load-generator", choices=("auto", "wrk", "python"), default="auto",
                       help="for the GET, list and module POST runs: wrk (bench/wrk.py), "
                            "python (bench/loadgen.py), or auto: wrk when installed")


# -- the phase ---------------------------------------------------------------------------------

def hash_parameters() -> dict:
    """The password hasher's parameters, and what one hash costs here (this process, 3 runs)."""
    from mission_control.passwords import hash_password, hasher
    walls, cpus = [], []
    for i in range(3):
        w0, c0 = time.perf_counter(), time.process_time()
        hash_password(f"bench-{i}")
        walls.append(1000 * (time.perf_counter() - w0))
        cpus.append(1000 * (time.process_time() - c0))
    return {"algorithm": f"argon2{hasher.type.name.lower()}", "time_cost": hasher.time_cost,
            "memory_cost_kib": hasher.memory_cost, "parallelism": hasher.parallelism,
            "hash_len": hasher.hash_len, "salt_len": hasher.salt_len,
            "one_hash_wall_ms": round(min(walls), 1), "one_hash_cpu_ms": round(min(cpus), 1)}


def _created(session, path: str, payload: dict) -> dict:
    response = session.post(f"{path}", json=payload, timeout=30)
    if response.status_code != 201:
        raise RuntimeError(f"set-up POST {path}: {response.status_code} {response.text[:300]}")
    return response.json()


def _report(label: str, result: dict) -> None:
    lat = result["latency_ms"]
    generator = result.get("load_generator", {}).get("name", "python")
    say(f"registry[{label}]: {fmt(result['per_s'], digits=0)} req/s, p50 {fmt(lat['p50'], ' ms')}, "
        f"p99 {fmt(lat['p99'], ' ms')}, errors {result['errors']} {result['error_samples'][:3]}; "
        f"{format_cpu(result['cpu'])}; load generator {generator} "
        f"{fmt(result['cpu_ms_per_request'].get('load generator', 0.0), ' ms', 2)} CPU per request")


def phase_registry(db: BenchDatabase, logs: Path, options, credentials) -> dict:
    import requests

    concurrencies = [int(c) for c in options.web_concurrency.split(",")]
    threads, seconds = options.web_threads, options.registry_seconds
    processes = options.post_processes
    per_process = max(1, options.post_clients // processes)
    robot_clients = max(1, options.registry_robot_clients)
    robot_processes = min(2, robot_clients)
    generator = choose_load_generator(options.load_generator)
    results: dict = {"hash": hash_parameters(), "load_generator": generator}
    h = results["hash"]
    say(f"registry: password hash {h['algorithm']} t={h['time_cost']} m={h['memory_cost_kib']} KiB "
        f"p={h['parallelism']}: {h['one_hash_wall_ms']} ms wall, {h['one_hash_cpu_ms']} ms CPU here")
    say("registry: load generator for the GET, list and module POST runs: "
        + (f"wrk ({wrk.version()}, {wrk.find()})" if generator == "wrk" else
           "python (bench/loadgen.py)" + (" - wrk not found (apt-get install wrk)"
                                          if wrk.find() is None else "")))
    for concurrency in concurrencies:
        key = f"WEB_CONCURRENCY={concurrency}"
        db.execute(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE")
        say(f"registry[{key}, WEB_THREADS={threads}]: starting registry-api alone")
        system = start_system(db.url, logs, services=("registry-api",), credentials=credentials,
                              web_concurrency=str(concurrency), web_threads=str(threads), **FAST)
        try:
            base = f"{system.registry_url}{API}"
            session = system.session("admin")
            workspace = _created(session, f"{base}/workspaces", {"name": f"bench-{concurrency}"})
            project = _created(session, f"{base}/projects",
                               {"workspace_id": workspace["id"], "name": "bench"})
            level = _created(session, f"{base}/levels",
                             {"project_id": project["id"], "name": "L1", "elevation": 0.0})
            level_id = level["id"]
            timed = min(options.registry_timed_robots, options.registry_robots)
            untimed = options.registry_robots - timed
            say(f"registry[{key}]: {untimed} robots one at a time, then {timed} timed with "
                f"{robot_clients} concurrent clients")
            for i in range(untimed):               # fresh connections reach every gunicorn worker
                _created(system.session("admin"), f"{base}/robots",
                         robot_body(level_id, f"setup-{i}"))
            load, cpu = load_run(system, db, RobotPosts(level_id, "timed"), role="admin",
                              processes=robot_processes,
                              threads=max(1, robot_clients // robot_processes),
                              max_requests=timed, seconds=300, expect=201)
            results[f"robot-post, {key}"] = robot = measured(
                load, cpu, web_concurrency=concurrency, web_threads=threads,
                clients=robot_processes * max(1, robot_clients // robot_processes),
                processes=robot_processes, hashes_per_request=1,
                load_generator=generator_info("python", load, robot_processes,
                                               max(1, robot_clients // robot_processes)))
            _report(f"robot-post, {key}", robot)
            listing = session.get(f"{base}/robots", params={"level_id": level_id, "limit": 500},
                                  timeout=30).json()
            robot_ids = [r["id"] for r in listing["items"]]
            if len(robot_ids) != options.registry_robots or not all(
                    r["has_password"] for r in listing["items"]):
                raise RuntimeError(f"expected {options.registry_robots} robots with a password "
                                   f"on the level, found {len(robot_ids)}")

            list_path = f"{API}/robots?level_id={level_id}&limit=50"
            runs = (("get", "GET /robots/{id}", RobotGets(robot_ids), 200, "viewer"),
                    ("list", "GET /robots?level_id=&limit=50", FixedRequest("GET", list_path, None),
                     200, "viewer"),
                    ("module-post", "POST /modules", ModulePosts(robot_ids, f"c{concurrency}"), 201,
                     "admin"))
            modules_before = 0
            for name, what, factory, expect, role in runs:
                for i in range(4 * concurrency):   # warm-up on fresh connections
                    method, path, body = factory(9, 9, i)
                    response = requests.request(method, f"{system.registry_url}{path}", data=body,
                                                headers={"Content-Type": "application/json",
                                                         **system.headers(role)},
                                                timeout=30)
                    if response.status_code != expect:
                        raise RuntimeError(f"warm-up {what}: {response.status_code} "
                                           f"{response.text[:300]}")
                if name == "module-post":
                    modules_before = db.scalar("SELECT count(*) FROM registry_modules")
                say(f"registry[{name}, {key}]: {processes * per_process} keep-alive clients in "
                    f"{processes} {'wrk threads' if generator == 'wrk' else 'processes'}, "
                    f"{seconds:g}s")
                sampler = LockSampler(db) if name == "module-post" else None
                load, cpu = load_run(system, db, factory, processes=processes, threads=per_process,
                                  max_requests=options.registry_requests, seconds=seconds,
                                  expect=expect, sampler=sampler, generator=generator, role=role)
                result = measured(load, cpu, what=what, role=role, web_concurrency=concurrency,
                                   web_threads=threads, clients=processes * per_process,
                                   processes=processes,
                                   load_generator=generator_info(generator, load, processes,
                                                                  per_process))
                if sampler is not None:
                    result["lock_waits"] = sampler.stop()
                    stored = db.scalar("SELECT count(*) FROM registry_modules") - modules_before
                    result["rows_in_db"] = stored
                    if stored != load.ok:
                        result["errors"] += abs(stored - load.ok)
                        result["error_samples"].append(
                            f"{stored} modules stored for {load.ok} answered 201")
                results[f"{name}, {key}"] = result
                _report(f"{name}, {key}", result)
                if sampler is not None:
                    say(f"registry[{name}, {key}]: lock waits {result['lock_waits']}")
            events = db.scalar("SELECT count(*) FROM registry_events")
            rows = db.scalar("SELECT (SELECT count(*) FROM registry_workspaces) + "
                             "(SELECT count(*) FROM registry_projects) + "
                             "(SELECT count(*) FROM registry_levels) + "
                             "(SELECT count(*) FROM registry_robots) + "
                             "(SELECT count(*) FROM registry_modules)")
            results[f"events, {key}"] = {"events": events, "rows": rows}
            if events != rows:
                raise RuntimeError(f"{events} registry events for {rows} created rows")
        finally:
            system.stop_all()
    return results


# -- report rows -------------------------------------------------------------------------------

def table_rows(phase: dict, row) -> bool:
    """Add the registry rows via ``row(metric, measured, target, met)``; True on an error."""
    bad = False
    h = phase.get("hash") or {}
    for key, r in phase.items():
        if not isinstance(r, dict) or "per_s" not in r:
            continue
        kind, _, wc = key.partition(", ")
        setting = f"{wc} x {r['web_threads']} threads"
        rate, lat = r["per_s"], r["latency_ms"]
        if kind == "robot-post":
            row(f"registry POST /robots (password), {setting}", fmt(rate, " req/s", 1),
                f"bounded by {h.get('algorithm', 'argon2')} t={h.get('time_cost')}, "
                f"m={(h.get('memory_cost_kib') or 0) // 1024} MiB, p={h.get('parallelism')}")
        else:
            target = TARGET_MODULE_POST_PER_S if kind == "module-post" else TARGET_GET_PER_S
            row(f"registry {r['what']}, {setting}", fmt(rate, " req/s", 0),
                f">= {target:,} req/s", rate is not None and rate >= target)
        gen = r.get("load_generator") or {"name": "python"}
        row(f"  latency p50 / p99 ({r['clients']} clients, {gen['name']})",
            f"{fmt(lat['p50'], ' ms')} / {fmt(lat['p99'], ' ms')}")
        per = r["cpu_ms_per_request"]
        parts = ", ".join(f"{k} {v:.2f}" for k, v in sorted(per.items(), key=lambda kv: -kv[1])
                          if not k.startswith(("bench", "other")) and v >= 0.01)
        row("  CPU ms per request", parts)
        row("  load generator: CPU ms per request",
            f"{gen['name']} {per.get('load generator', 0.0):.2f}")
        cores = r["cpu"]["cores_busy"]
        row("  machine busy / other (cores)",
            f"{r['cpu']['machine_busy_pct']}% / {cores.get('other (not this bench)', 0.0):.2f}")
        if r.get("lock_waits"):
            w = r["lock_waits"]
            types = ", ".join(f"{k} {v}" for k, v in (w.get("mean_waiting_by_lock_type") or {}).items())
            row("  backends waiting for a lock (mean)",
                f"{w.get('mean_waiting_for_a_lock')} of {w.get('mean_active_backends')} active"
                + (f" ({types})" if types else ""))
        row(f"  errors ({r['requests']:,} requests)", fmt(r["errors"]), "0", r["errors"] == 0)
        bad |= r["errors"] != 0
    return bad
