"""The telecommand pipeline's phases: pickup latency, and throughput to a final state (with 1
and 2 command-senders, and where each one's time went)."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import requests

from bench.common import FINAL_SQL, FAST, BenchDatabase, CpuMeter, format_cpu, fmt, say, summary, wait_until
from mission_control.catalog import validate_command
from mission_control.models import SPACECRAFT_TARGET_ID, Telecommand, TelecommandHistory
from mission_control.status import Status
from mission_control.timeutil import utcnow
from tests.e2e.harness import start_system

EXPECTED_PATH = ">READY,READY>TRANSMITTED,TRANSMITTED>ACKNOWLEDGED,ACKNOWLEDGED>EXECUTED"


def insert_ready(db: BenchDatabase, count: int, operator: str = "bench") -> None:
    """Insert ``count`` READY PING commands exactly as the API would (history row included).

    Same columns and values as ground's ``telecommands.issue`` + ``lifecycle.record_creation``:
    args validated by the catalog, created_at == updated_at == the history row's ``at``, no
    transmit time (the worker draws it), no lease. One transaction: the commit's NOTIFY (the
    migration's trigger) is what the worker would get from the API.
    """
    args = validate_command("spacecraft", "PING", {}, confirm=False)
    commands, history = [], []
    for _ in range(count):
        now = utcnow()
        command_id = uuid.uuid4()
        commands.append({"id": command_id, "target_id": SPACECRAFT_TARGET_ID, "module_id": None,
                         "command_name": "PING", "args": args, "status": Status.READY.value,
                         "status_reason": None, "operator": operator, "idempotency_key": None,
                         "created_at": now, "updated_at": now, "transmit_at": None, "next_step_at": None,
                         "lease_owner": None, "lease_expires_at": None, "attempts": 0})
        history.append({"telecommand_id": command_id, "from_status": None,
                        "to_status": Status.READY.value, "at": now, "actor": operator,
                        "reason": None})
    with db.engine.begin() as connection:
        connection.execute(Telecommand.__table__.insert(), commands)
        connection.execute(TelecommandHistory.__table__.insert(), history)


def verify(db: BenchDatabase) -> dict:
    """Check every command that reached a final state, and count those that did not.

    A final command must be EXECUTED (failures are disabled), with exactly the history
    READY -> TRANSMITTED -> ACKNOWLEDGED -> EXECUTED, and have run exactly once on board.
    Commands still in flight (a run stopped at its time limit) are counted as unfinished,
    not as violations; no spacecraft record may exist without a telecommand.
    """
    row = db.rows(f"""
        WITH paths AS (
            SELECT t.id, t.status,
                   string_agg(coalesce(h.from_status, '') || '>' || h.to_status, ','
                              ORDER BY h.id) AS path
            FROM telecommands t LEFT JOIN telecommand_history h ON h.telecommand_id = t.id
            GROUP BY t.id, t.status)
        SELECT count(*) AS commands,
               count(*) FILTER (WHERE status NOT IN {FINAL_SQL}) AS unfinished,
               count(*) FILTER (WHERE status IN {FINAL_SQL} AND status <> 'EXECUTED') AS not_executed,
               count(*) FILTER (WHERE status IN {FINAL_SQL}
                                AND path IS DISTINCT FROM '{EXPECTED_PATH}') AS bad_history
        FROM paths""")[0]
    on_board = db.rows(f"""
        SELECT count(*) FILTER (WHERE s.id IS NULL) AS missing,
               count(*) FILTER (WHERE s.executions <> 1) AS executions_not_one,
               coalesce(sum(s.receipts), 0) AS receipts
        FROM telecommands t LEFT JOIN spacecraft_commands s ON s.id = t.id::text
        WHERE t.status IN {FINAL_SQL}""")[0]
    orphans = db.scalar("""SELECT count(*) FROM spacecraft_commands s
                           WHERE NOT EXISTS (SELECT 1 FROM telecommands t WHERE t.id::text = s.id)""")
    over = db.scalar("SELECT count(*) FROM spacecraft_commands WHERE executions > 1")
    examples = [r[0] for r in db.rows(f"""
        SELECT t.id::text FROM telecommands t
        WHERE t.status IN {FINAL_SQL} AND (t.status <> 'EXECUTED' OR (
              SELECT string_agg(coalesce(h.from_status, '') || '>' || h.to_status, ',' ORDER BY h.id)
              FROM telecommand_history h WHERE h.telecommand_id = t.id) IS DISTINCT FROM '{EXPECTED_PATH}')
        LIMIT 5""")]
    result = {"commands": row.commands, "unfinished": row.unfinished,
              "not_executed": row.not_executed, "bad_history": row.bad_history,
              "missing_on_board": on_board.missing,
              "executions_not_one": on_board.executions_not_one,
              "executed_more_than_once_on_board": over,
              "unknown_on_board": orphans, "receipts_on_board": int(on_board.receipts),
              "examples": examples}
    result["violations"] = (row.not_executed + row.bad_history + on_board.missing
                            + on_board.executions_not_one + orphans + over)
    return result


def wait_listening(db: BenchDatabase, replicas: int) -> None:
    wait_until(lambda: db.listening() >= replicas, 30, 0.1, "command-sender LISTEN connection(s)")


# -- phase 1: pickup latency -----------------------------------------------------------------

def phase_pickup(db: BenchDatabase, logs: Path, count: int, rate: float, credentials) -> dict:
    say(f"pickup: starting ground, spacecraft and one command-sender ({FAST})")
    db.reset()
    system = start_system(db.url, logs, credentials=credentials, **FAST)
    try:
        wait_listening(db, 1)
        url = f"{system.ground_url}/api/telecommands"
        session = system.session("operator")  # POSTs as the run's operator, bearer token
        warm = [session.post(url, json={"command_name": "PING"}, timeout=10) for _ in range(5)]
        if any(r.status_code != 201 for r in warm):
            raise RuntimeError(f"warm-up POST failed: {[r.status_code for r in warm]}")
        wait_until(lambda: db.active() == 0, 30, 0.1, "warm-up commands to finish")
        warm_ids = {r.json()["id"] for r in warm}

        say(f"pickup: posting {count} commands one at a time at {rate:g}/s")
        meter = CpuMeter(system, db.name)
        meter.start()
        ids, rtts, errors = [], [], 0
        start = time.perf_counter()
        for i in range(count):
            pause = start + i / rate - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            begin = time.perf_counter()
            try:
                response = session.post(url, json={"command_name": "PING"}, timeout=10)
                elapsed = (time.perf_counter() - begin) * 1000
                if response.status_code == 201:
                    ids.append(response.json()["id"])
                    rtts.append(elapsed)
                else:
                    errors += 1
            except requests.RequestException:
                errors += 1
            if (i + 1) % max(1, count // 4) == 0:
                say(f"pickup: {i + 1}/{count} posted")
        wait_until(lambda: db.active() == 0, 60, 0.1, "posted commands to finish")
        cpu = meter.stop()
        rows = db.rows(f"""
            SELECT t.id::text,
                   extract(epoch FROM tx.at - t.created_at) * 1000 AS pickup_ms,
                   extract(epoch FROM ex.at - t.created_at) * 1000 AS final_ms
            FROM telecommands t
            JOIN telecommand_history tx ON tx.telecommand_id = t.id AND tx.to_status = 'TRANSMITTED'
            LEFT JOIN telecommand_history ex ON ex.telecommand_id = t.id AND ex.to_status IN {FINAL_SQL}
        """)
        wanted = set(ids)
        pickup = [float(r.pickup_ms) for r in rows if r.id in wanted]
        final = [float(r.final_ms) for r in rows if r.id in wanted and r.final_ms is not None]
        check = verify(db)
        result = {"posted": len(ids), "post_errors": errors, "rate_per_s": rate,
                  "warmup_excluded": len(warm_ids),
                  "pickup_ms": summary(pickup), "post_rtt_ms": summary(rtts),
                  "created_to_final_ms": summary(final), "verification": check, "cpu": cpu}
        say(f"pickup: p50 {fmt(result['pickup_ms']['p50'], ' ms')}, p99 {fmt(result['pickup_ms']['p99'], ' ms')}; "
            f"{format_cpu(cpu)}")
        return result
    finally:
        system.stop_all()


# -- phase 2: throughput to a final state ------------------------------------------------------

def replica_totals(log_file: Path) -> dict | None:
    """Where one command-sender's time went: the totals line it logs when it stops
    (command_sender/stats.py): passes, db_s, claimed, batches, sent, asked, http_s, recorded,
    idle_s."""
    try:
        lines = [line for line in log_file.read_text(errors="replace").splitlines()
                 if "totals: " in line]
    except OSError:
        return None
    if not lines:
        return None
    totals = {}
    for pair in lines[-1].split("totals: ", 1)[1].split():
        name, _, value = pair.partition("=")
        totals[name] = float(value) if "." in value else int(value)
    return totals

def phase_throughput(db: BenchDatabase, logs: Path, count: int, replicas_list: list[int],
                     timeout: float, credentials, analyze: bool = True) -> dict:
    say("throughput: starting the spacecraft (command-senders stopped)")
    # The command-senders present the run's UPLINK_KEY (system.env) to the spacecraft.
    system = start_system(db.url, logs, services=("spacecraft",), credentials=credentials,
                          **FAST)
    results = {}
    try:
        for replicas in replicas_list:
            db.reset()
            say(f"throughput[{replicas} replica(s)]: inserting {count} READY commands in bulk")
            insert_ready(db, count)
            if analyze:
                # Planner statistics as autoanalyze would leave them for a backlog that built
                # up while no worker ran (deterministic, instead of racing autovacuum).
                db.analyze()
            time.sleep(1.2)                      # let pg_stat counters of the insert settle
            stats0 = db.stats()
            meter = CpuMeter(None, db.name)
            keys = [f"command-sender-{replicas}r-{i + 1}" for i in range(replicas)]
            t0 = time.monotonic()
            for key in keys:
                system.start("command-sender", instance=key)
            meter.sessions = {p.pid: ("command-sender" if k.startswith("command-sender") else k)
                              for k, p in system.processes.items()}
            meter.start()
            remaining, last_report, timed_out = count, t0, False
            while True:
                remaining = db.active()
                now = time.monotonic()
                if remaining == 0:
                    break
                if now - t0 > timeout:
                    timed_out = True
                    break
                if now - last_report >= 3:
                    done = count - remaining
                    say(f"throughput[{replicas}]: {done}/{count} final after {now - t0:.1f}s")
                    last_report = now
                time.sleep(0.1)
            wall = time.monotonic() - t0
            cpu = meter.stop()
            for key in keys:
                system.stop(key)
            time.sleep(1.2)
            stats1 = db.stats()
            replica_time = {key: replica_totals(system.log_dir / f"{key}.log") for key in keys}
            window = db.rows(f"""
                SELECT extract(epoch FROM min(at) FILTER (WHERE from_status = 'READY')) AS first_tx,
                       extract(epoch FROM max(at) FILTER (WHERE to_status IN {FINAL_SQL})) AS last_final
                FROM telecommand_history""")[0]
            per_actor = {r.actor: r.n for r in db.rows(
                "SELECT actor, count(*) AS n FROM telecommand_history "
                "WHERE to_status = 'TRANSMITTED' GROUP BY actor")}
            finished = count - remaining
            active_window = (float(window.last_final) - float(window.first_tx)
                             if window.first_tx is not None and window.last_final is not None else None)
            check = verify(db)
            deltas = {k: stats1[k] - stats0[k] for k in stats0}
            result = {
                "replicas": replicas, "commands": count, "finished": finished,
                "timed_out": timed_out, "timeout_s": timeout, "wall_s_from_spawn": round(wall, 3),
                "per_s_from_spawn": finished / wall if wall else None,
                "active_window_s": round(active_window, 3) if active_window else None,
                "per_s_active_window": finished / active_window if active_window else None,
                "transmitted_by_replica": per_actor,
                "replica_time": replica_time,
                "db_counters_per_command": {k: round(v / max(1, finished), 2)
                                            for k, v in deltas.items()},
                "verification": check, "cpu": cpu,
                "cpu_ms_per_command": {k: round(1000 * v / max(1, finished), 2)
                                       for k, v in cpu["cpu_s"].items() if v},
            }
            results[str(replicas)] = result
            say(f"throughput[{replicas}]: {finished}/{count} final in {wall:.1f}s from spawn "
                f"({result['per_s_from_spawn']:.0f}/s; "
                f"{(result['per_s_active_window'] or 0):.0f}/s between the first transmission and "
                f"the last final state); violations {check['violations']}; {format_cpu(cpu)}")
            for key, totals in replica_time.items():
                say(f"throughput[{replicas}]: {key}: " + (" ".join(
                    f"{k}={v}" for k, v in totals.items()) if totals else "no totals line logged"))
    finally:
        system.stop_all()
    return results
