"""What every bench script shares: the throwaway database, CPU accounting, figures and output.

Run the bench scripts as modules from the repository root (``python -m bench.run``), so that
``bench`` and ``tests.e2e.harness`` import as packages, with no ``sys.path`` edits.
"""

from __future__ import annotations

import os
import platform
import statistics
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from mission_control.migrate import upgrade
from tests.e2e.harness import System

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench-results"
FINAL_SQL = "('EXECUTED','FAILED','CANCELLED')"
# What every measurement runs with (see the brief in bench/README.md).
FAST = {"max_transmit_delay_s": "0", "max_stage_delay_s": "0", "execution_failure_rate": "0",
        "poll_interval_s": "1"}


def say(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


# -- statistics ------------------------------------------------------------------------------

def percentile(values: list[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (q in [0, 100])."""
    if not values:
        return None
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    position = (len(ordered) - 1) * q / 100.0
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summary(values: list[float]) -> dict:
    return {"n": len(values),
            "mean": statistics.fmean(values) if values else None,
            "p50": percentile(values, 50), "p95": percentile(values, 95),
            "p99": percentile(values, 99), "max": max(values) if values else None,
            "min": min(values) if values else None}


# -- machine and CPU accounting --------------------------------------------------------------

def code_version() -> dict:
    """Which code was measured: the commit and whether the working tree had changes."""
    import subprocess

    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,
                                  timeout=10).stdout.rstrip()
        except (OSError, subprocess.SubprocessError):
            return ""

    changed = [line[3:] for line in git("status", "--porcelain").splitlines()
               if not line[3:].startswith(("bench/", "bench-results/"))]
    return {"commit": git("rev-parse", "--short", "HEAD").strip() or None, "uncommitted_changes": changed}


def machine() -> dict:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        mem_kb = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                          if line.startswith("MemTotal")))
    except (OSError, StopIteration, ValueError):
        mem_kb = 0
    return {"nproc": os.cpu_count(), "cpu_model": model, "loadavg_at_start": os.getloadavg(), "memory_gb": round(mem_kb / 1048576, 1),
            "kernel": platform.release(), "python": platform.python_version()}


CLK = os.sysconf("SC_CLK_TCK")


def _machine_ticks() -> tuple[int, int]:
    """(busy, total) jiffies over all cores, from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    total = sum(fields[:8])
    idle = fields[3] + fields[4]
    return total - idle, total


class CpuMeter:
    """CPU seconds used during a window by each service's process group and by PostgreSQL.

    Services run in their own session (the harness starts them with start_new_session), so a
    process belongs to a service when its session id is the service's pid. PostgreSQL is every
    process named ``postgres``. The load generator reports its own CPU time.
    """

    def __init__(self, system: System | None, database_name: str = "") -> None:
        self.sessions = {p.pid: key for key, p in (system.processes.items() if system else [])}
        self.database_name = database_name

    def _postgres_group(self, pid: str) -> str | None:
        """Backends of the bench's database, or the server's shared background processes."""
        try:
            title = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            return None
        if self.database_name and f" {self.database_name} " in title:
            return "postgresql"
        if " 127.0.0.1(" in title or " [local]" in title:
            return None                                   # a backend of another database
        return "postgresql (server background)"

    def _sample(self) -> dict[str, float]:
        used: dict[str, float] = {}
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                data = Path(f"/proc/{entry.name}/stat").read_text()
            except OSError:
                continue
            close = data.rfind(")")
            comm = data[data.find("(") + 1:close]
            fields = data[close + 2:].split()
            session = int(fields[3])
            seconds = (int(fields[11]) + int(fields[12])) / CLK
            group = self.sessions.get(session)
            if group is None and comm.startswith("postgres"):
                group = self._postgres_group(entry.name)
            if group is not None:
                used[group] = used.get(group, 0.0) + seconds
        used["bench (main process)"] = time.process_time()
        return used

    def start(self) -> None:
        self.before = self._sample()
        self.machine_before = _machine_ticks()
        self.t0 = time.monotonic()

    def stop(self, extra: dict[str, float] | None = None) -> dict:
        after = self._sample()
        wall = time.monotonic() - self.t0
        busy1, total1 = _machine_ticks()
        busy0, total0 = self.machine_before
        cores = {k: round(after[k] - self.before.get(k, 0.0), 2) for k in after}
        for key, value in (extra or {}).items():
            cores[key] = round(value, 2)
        # Whatever else ran on the machine meanwhile (other users' jobs, the kernel, ...).
        machine_busy_s = (busy1 - busy0) / CLK
        cores["other (not this bench)"] = round(max(0.0, machine_busy_s - sum(cores.values())), 2)
        return {
            "wall_s": round(wall, 2),
            "cpu_s": cores,
            "cores_busy": {k: round(v / wall, 2) for k, v in cores.items()} if wall else {},
            "machine_busy_pct": round(100.0 * (busy1 - busy0) / max(1, total1 - total0), 1),
        }


def format_cpu(cpu: dict) -> str:
    parts = ", ".join(f"{k} {v:.2f}" for k, v in sorted(cpu["cores_busy"].items(),
                                                        key=lambda kv: -kv[1]))
    return f"machine {cpu['machine_busy_pct']}% busy; cores used: {parts}"


# -- database --------------------------------------------------------------------------------

class BenchDatabase:
    """A throwaway PostgreSQL database, created, migrated and dropped by the bench."""

    def __init__(self, admin_url: str) -> None:
        self.admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        self.name = f"mc_bench_{uuid.uuid4().hex[:10]}"
        with self.admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{self.name}"'))
        self.url = make_url(admin_url).set(database=self.name).render_as_string(hide_password=False)
        self.engine = create_engine(self.url, pool_size=2)

    def migrate(self) -> None:
        upgrade(self.url)

    def version(self) -> str:
        with self.engine.connect() as connection:
            return connection.execute(text("SHOW server_version")).scalar()

    def scalar(self, sql: str, **params):
        with self.engine.connect() as connection:
            return connection.execute(text(sql), params).scalar()

    def rows(self, sql: str, **params):
        with self.engine.connect() as connection:
            return connection.execute(text(sql), params).all()

    def execute(self, sql: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(text(sql))

    def reset(self) -> None:
        self.execute("TRUNCATE telecommand_history, telecommands, spacecraft_commands")

    def analyze(self) -> None:
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("ANALYZE telecommands, telecommand_history, spacecraft_commands"))

    def stats(self) -> dict:
        """Cluster-wide counters for this database (flushed by backends about once a second)."""
        with self.engine.connect() as connection:
            row = connection.execute(text(
                "SELECT xact_commit, xact_rollback, tup_inserted, tup_updated, tup_fetched "
                "FROM pg_stat_database WHERE datname = current_database()")).one()
        return dict(row._mapping)

    def active(self) -> int:
        return self.scalar(f"SELECT count(*) FROM telecommands WHERE status NOT IN {FINAL_SQL}")

    def listening(self) -> int:
        return self.scalar("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                           "AND query ILIKE 'LISTEN%'")

    def drop(self) -> None:
        self.engine.dispose()
        with self.admin.connect() as connection:
            connection.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                    "WHERE datname = :n AND pid <> pg_backend_pid()"), {"n": self.name})
            connection.execute(text(f'DROP DATABASE IF EXISTS "{self.name}"'))
        self.admin.dispose()


def fmt(value, unit="", digits=1) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:,.{digits}f}{unit}"
    return f"{value:,}{unit}"


def wait_until(predicate, timeout: float, interval: float = 0.1, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
