"""A small HTTP load generator: processes x threads, each thread one keep-alive connection.

Pure standard library (http.client), so ``make bench`` needs nothing extra. Every run is
bounded twice: by a total request count and by a duration. Each process reports the latency
of every request it made; the caller merges them. By default every request is the same POST;
a ``factory`` (see ``FixedRequest``) can vary the method, path and body per request.
``headers`` go with every request: the bearer token the bench signed in for.
"""

from __future__ import annotations

import http.client
import json
import multiprocessing
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit


@dataclass
class LoadResult:
    requests: int = 0
    ok: int = 0
    errors: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    error_samples: list[str] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    started: float = 0.0      # wall clock (time.time) of the first request
    finished: float = 0.0     # wall clock of the last answer
    cpu_s: float = 0.0        # CPU time the load generator itself used

    def merge(self, other: "LoadResult") -> None:
        self.requests += other.requests
        self.cpu_s += other.cpu_s
        self.ok += other.ok
        self.errors += other.errors
        for key, value in other.statuses.items():
            self.statuses[key] = self.statuses.get(key, 0) + value
        self.error_samples.extend(other.error_samples[: max(0, 5 - len(self.error_samples))])
        self.latencies_ms.extend(other.latencies_ms)
        starts = [t for t in (self.started, other.started) if t]
        self.started = min(starts) if starts else 0.0
        self.finished = max(self.finished, other.finished)


class FixedRequest:
    """A request factory that sends the same request every time (run_load's default).

    A factory is called as ``factory(process, thread, n)`` (process and thread index, the
    thread's n-th request) and returns ``(method, path, body bytes or None)``. It is built in
    the caller and pickled into every load process, so it must be picklable (a module-level
    class) and cheap: it runs in the load generator, outside the timed part of a request.
    """

    def __init__(self, method: str, path: str, body: bytes | None) -> None:
        self.method, self.path, self.body = method, path, body

    def __call__(self, process: int, thread: int, n: int) -> tuple[str, str, bytes | None]:
        return self.method, self.path, self.body


def _process(url: str, factory, threads: int, quota: int, ready, max_seconds: float,
             expect: int, index: int = 0, extra_headers: dict[str, str] | None = None) -> LoadResult:
    """One load process: ``threads`` keep-alive clients sharing ``quota`` requests.

    Waits on ``ready`` (a barrier shared with the other processes and the caller) so that all
    processes start together once every one of them has finished importing.
    """
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    bodyless = {"Accept": "application/json", **(extra_headers or {})}
    headers = {"Content-Type": "application/json", **bodyless}
    lock = threading.Lock()
    remaining = [quota]
    results = [LoadResult() for _ in range(threads)]

    def take() -> bool:
        with lock:
            if remaining[0] <= 0:
                return False
            remaining[0] -= 1
            return True

    def client(result: LoadResult, thread: int) -> None:
        connection = http.client.HTTPConnection(host, port, timeout=15)
        latencies = result.latencies_ms
        n = 0
        while time.time() < deadline and take():
            method, path, body = factory(index, thread, n)
            n += 1
            begin = time.perf_counter()
            if not result.started:
                result.started = time.time()
            try:
                connection.request(method, path, body, headers if body is not None else bodyless)
                response = connection.getresponse()
                response.read()
                status = response.status
                if response.getheader("Connection", "").lower() == "close":
                    connection.close()
            except (OSError, http.client.HTTPException) as error:
                status = type(error).__name__
                connection.close()
                connection = http.client.HTTPConnection(host, port, timeout=15)
            elapsed = (time.perf_counter() - begin) * 1000.0
            result.requests += 1
            result.finished = time.time()
            key = str(status)
            result.statuses[key] = result.statuses.get(key, 0) + 1
            if status == expect:
                result.ok += 1
                latencies.append(elapsed)
            else:
                result.errors += 1
                if len(result.error_samples) < 5:
                    result.error_samples.append(key)
        connection.close()

    ready.wait()
    cpu_before = time.process_time()                # count the load, not the imports
    deadline = time.time() + max_seconds
    workers = [threading.Thread(target=client, args=(r, i), daemon=True)
               for i, r in enumerate(results)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    merged = LoadResult()
    for result in results:
        merged.merge(result)
    merged.cpu_s = time.process_time() - cpu_before
    return merged


def _entry(queue, *args) -> None:
    try:
        queue.put(_process(*args))
    except BaseException as error:  # report, never hang the caller
        failed = LoadResult(errors=1, error_samples=[f"load process: {error!r}"])
        queue.put(failed)


def run_load(url: str, path: str = "", payload: dict | None = None, *, processes: int,
             threads: int, max_requests: int, max_seconds: float, expect: int = 201,
             on_start=None, factory=None, headers: dict[str, str] | None = None) -> LoadResult:
    """POST ``payload`` to ``url + path`` from processes x threads keep-alive clients.

    Stops after ``max_requests`` in total or ``max_seconds``, whichever comes first.
    ``on_start`` is called when the processes are released (to start measuring there).
    ``factory`` (see ``FixedRequest``), when given, makes each request instead of
    ``path``/``payload``; ``expect`` is the status that counts as a success. ``headers``
    (e.g. ``Authorization``) are sent with every request.
    """
    if factory is None:
        factory = FixedRequest("POST", path, json.dumps(payload).encode())
    per_process = [max_requests // processes + (1 if i < max_requests % processes else 0)
                   for i in range(processes)]
    context = multiprocessing.get_context("spawn")
    ready = context.Barrier(processes + 1)
    queue = context.Queue()
    children = [context.Process(target=_entry, daemon=True,
                                args=(queue, url, factory, threads, quota, ready, max_seconds,
                                      expect, index, headers))
                for index, quota in enumerate(per_process)]
    for child in children:
        child.start()
    total = LoadResult()
    try:
        ready.wait(timeout=120)               # every process has imported: go
        if on_start is not None:
            on_start()
        for _ in children:
            total.merge(queue.get(timeout=max_seconds + 120))
    finally:
        for child in children:
            child.join(timeout=10)
            if child.is_alive():
                child.terminate()
    return total
