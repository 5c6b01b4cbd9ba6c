"""wrk as a load generator: the same runs as bench/loadgen.py, with the HTTP client in C.

bench/loadgen.py (http.client in threads, in processes) costs 0.2-0.65 ms of CPU per request
on the bench machine, taken from the cores the service under test needs. wrk (an event loop per
thread, keep-alive connections, requests built by a small Lua script) costs a fraction of that.
``run_wrk`` runs it with a generated script and returns a ``loadgen.LoadResult`` (a
``WrkResult``), so the callers treat both alike. Install it with ``apt-get install wrk`` (Debian's
4.1.0 uses LuaJIT, whose ``ffi`` the script needs for a wall clock).

How a run ends, and why not with wrk's ``-d``: wrk stops at ``-d`` whatever is in flight, and a
POST cut off that way may still be stored by the service, so "rows stored == 201 answers"
would fail for no fault of the service. The script's ``delay()`` instead stops starting
requests at the deadline (or at the request cap); every wrk thread says on stderr when all its
requests are answered, and when all have, this module sends SIGINT, which ends wrk at once
(it then runs ``done()``). ``-d`` is only a backstop: the duration plus ``GRACE_S``.

What is counted, in Lua: ``response()`` counts statuses per wrk thread; ``done()`` (in wrk's
main Lua state) adds up the threads' counters via ``thread:get`` and prints one JSON line
(``RESULT``) with the statuses, wrk's socket errors, the times of the first request and of the
last answer (so the rate covers the same window as loadgen's), and latency percentiles from
wrk's histogram. That histogram holds every answer, whatever its status, and wrk 4 applies its
coordinated-omission correction to it (``stats_correct``: synthetic samples for answers slower
than the mean interval between requests), so tail percentiles read higher than loadgen's raw
latencies of the successful requests.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from string import Template

from bench.loadgen import LoadResult

RESULT = "BENCH-WRK-RESULT "
DRAINED = "BENCH-WRK-DRAINED "
GRACE_S = 10            # -d backstop beyond the duration, for answers still in flight
TIMEOUT_S = 15          # wrk --timeout, as loadgen's http.client timeout


@dataclass
class WrkRequests:
    """What each request is: ``method`` to ``path`` with ``body`` (text, or None: no body).

    In ``path`` and ``body``, ``{id}`` is replaced for each request by an id drawn at random
    from ``ids``, and ``{unique}`` by ``<wrk thread>-<n>``, unique within the run. ``headers``
    (name, value) go with every request, e.g. the bearer token the bench signed in for.
    """

    method: str
    path: str
    body: str | None = None
    ids: tuple[str, ...] = ()
    headers: tuple[tuple[str, str], ...] = ()


@dataclass
class WrkResult(LoadResult):
    latency_summary: dict = field(default_factory=dict)   # run.summary()'s keys, plus p90
    wrk: dict = field(default_factory=dict)                # the command, how it ended, raw counts


def find() -> str | None:
    return shutil.which("wrk")


def version() -> str:
    """``wrk -v`` prints its version line, then the usage (exit status 1)."""
    try:
        out = subprocess.run([find() or "wrk", "-v"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    first = out.splitlines()[0] if out else ""
    return first.split(" Copyright")[0].strip() or "unknown"


# -- the Lua script ------------------------------------------------------------------------

def lua_string(value: str) -> str:
    """A Lua string literal: printable ASCII as is, every other byte as a \\ddd escape."""
    out = []
    for byte in value.encode():
        char = chr(byte)
        out.append(char if 32 <= byte < 127 and char not in '"\\' else f"\\{byte:03d}")
    return '"' + "".join(out) + '"'


def lua_parts(template: str | None) -> str:
    """A path or body template as a Lua list of strings and the ID / UNIQUE placeholders."""
    if template is None:
        return "nil"
    pieces = [p for p in re.split(r"(\{id\}|\{unique\})", template) if p]
    names = {"{id}": "ID", "{unique}": "UNIQUE"}
    return "{" + ", ".join(names.get(p) or lua_string(p) for p in pieces) + "}"


# The Lua script wrk runs, a string.Template filled in per run (lua_script).
SCRIPT = Template((Path(__file__).parent / "wrk_script.lua").read_text())


def lua_script(requests: WrkRequests, quota: int) -> str:
    """The script for one run; the deadline comes as the script's first argument."""
    templates = (requests.path, requests.body or "")
    if any("{id}" in t for t in templates) and not requests.ids:
        raise ValueError("{id} in the path or body, but no ids")
    return SCRIPT.substitute(
        method=lua_string(requests.method), path=lua_parts(requests.path),
        body=lua_parts(requests.body), ids="{" + ", ".join(map(lua_string, requests.ids)) + "}",
        unique_used="true" if any("{unique}" in t for t in templates) else "false",
        headers="\n".join(f"HEADERS[{lua_string(name)}] = {lua_string(value)}"
                          for name, value in requests.headers),
        quota=max(1, quota), drained=DRAINED, result=RESULT)


# -- the result ------------------------------------------------------------------------------

def parse_result(stdout: str, expect: int) -> WrkResult:
    """The LoadResult of a run from wrk's stdout (the ``RESULT`` line of ``done()``).

    Like loadgen, every request that did not get ``expect`` is an error: other statuses,
    socket errors (connect, read, write), requests still unanswered when wrk stopped, and
    answers slower than ``--timeout`` (wrk counts those as "timeout").
    """
    line = next((x for x in stdout.splitlines() if x.startswith(RESULT)), None)
    if line is None:
        raise ValueError("no result line from wrk's done()")
    data = json.loads(line[len(RESULT):])
    errors = data["errors"]
    statuses = {str(k): v for k, v in data["statuses"].items()}
    answered = sum(statuses.values())
    unanswered = max(0, data["sent"] - answered - errors["read"] - errors["write"])
    for key, count in (("socket connect error", errors["connect"]),
                       ("socket read error", errors["read"]),
                       ("socket write error", errors["write"]),
                       ("no answer when wrk stopped", unanswered)):
        if count:
            statuses[key] = count
    requests = sum(statuses.values())
    ok = statuses.get(str(expect), 0)
    samples = [f"{key} (x{count})" for key, count in statuses.items() if key != str(expect)]
    if errors["timeout"]:
        samples.append(f"{errors['timeout']} answers slower than {TIMEOUT_S}s (wrk --timeout)")
    lat = data["latency_us"]

    def ms(key: str) -> float | None:
        return round(lat[key] / 1000.0, 3) if answered else None

    latency = {"n": answered, "mean": ms("mean"), "p50": ms("p50"), "p90": ms("p90"),
               "p95": ms("p95"), "p99": ms("p99"), "max": ms("max"), "min": ms("min")}
    return WrkResult(requests=requests, ok=ok, errors=requests - ok + errors["timeout"],
                     statuses=statuses, error_samples=samples[:5], started=data["first"],
                     finished=data["last"], latency_summary=latency, wrk=data)


# -- the run ---------------------------------------------------------------------------------

def run_wrk(url: str, requests: WrkRequests, *, threads: int, connections: int, max_requests: int,
            max_seconds: float, expect: int, on_start=None) -> WrkResult:
    """``connections`` keep-alive connections in ``threads`` wrk threads send ``requests`` to
    ``url`` for ``max_seconds`` or ``max_requests`` in total (a cap per wrk thread: the total
    may exceed it by up to one request per connection), whichever comes first.

    ``on_start`` is called right before wrk starts. ``cpu_s`` is wrk's own CPU time (user +
    system, from wait4).
    """
    binary = find()
    if binary is None:
        raise RuntimeError("wrk is not installed (apt-get install wrk)")
    threads = max(1, threads)
    connections = threads * max(1, connections // threads)   # wrk: connections // threads each
    limit = math.ceil(max_seconds) + GRACE_S
    with tempfile.TemporaryDirectory(prefix="bench-wrk-") as tmp:
        script = Path(tmp) / "load.lua"
        script.write_text(lua_script(requests, math.ceil(max_requests / threads)))
        with open(Path(tmp) / "stdout", "w+") as out:
            if on_start is not None:
                on_start()
            deadline = time.time() + max_seconds
            command = [binary, "-t", str(threads), "-c", str(connections), "-d", f"{limit}s",
                       "--timeout", f"{TIMEOUT_S}s", "-s", str(script), url, f"{deadline:.6f}"]
            process = subprocess.Popen(command, stdout=out, stderr=subprocess.PIPE, text=True)
            watchdog = threading.Timer(limit + 60, process.kill)
            watchdog.start()
            drained, messages = 0, []
            with process.stderr:
                for line in process.stderr:
                    if line.startswith(DRAINED):
                        drained += 1
                        if drained == threads:           # all answered: end wrk now
                            process.send_signal(signal.SIGINT)
                    elif line.strip() and len(messages) < 20:
                        messages.append(line.strip())
            _, status, usage = os.wait4(process.pid, 0)
            process.returncode = os.waitstatus_to_exitcode(status)
            watchdog.cancel()
            out.seek(0)
            stdout = out.read()
    try:
        result = parse_result(stdout, expect)
    except (ValueError, KeyError) as error:
        raise RuntimeError(f"wrk (exit {process.returncode}): {error}; stderr: {messages[:5]}; "
                           f"stdout: {stdout[-500:]!r}") from None
    result.cpu_s = usage.ru_utime + usage.ru_stime
    result.wrk.update(command=" ".join(command[:-1]) + " <deadline>", threads=threads,
                      connections=connections, drained_threads=drained,
                      ended_by="SIGINT once drained" if drained == threads else f"-d {limit}s",
                      stderr=messages[:5])
    return result
