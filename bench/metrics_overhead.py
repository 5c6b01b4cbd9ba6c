"""What /metrics costs each request, measured in-process: ``python -m bench.metrics_overhead``.

Like ``bench.auth_overhead``: the end-to-end request rates move more between runs than the
cost being measured, so this measures CPU time in the process. For ground, with its request
timing (the first before-request hook and the after-request hook that observes
``mc_http_request_duration_seconds``): the hooks alone, and a whole GET /api/catalog through
Flask's test client with the hooks and without them. Also what one scrape of ground's
/metrics costs (the telecommands-by-status query included). Each figure is measured in both
modes: values in the process (tests, the command-sender), and multiprocess mode (mc-serve:
values in files under PROMETHEUS_MULTIPROC_DIR), which runs in a child process because the
mode is chosen before prometheus_client is imported.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time


def cpu_us(action, count: int) -> float:
    started = time.process_time()
    for _ in range(count):
        action()
    return (time.process_time() - started) / count * 1e6


def measure(mode: str, runs: int) -> None:
    from ground.app import create_app
    from mission_control import metrics
    from mission_control.db import Database
    from mission_control.migrate import upgrade
    from mission_control.settings import Settings
    from mission_control.testing import token_for

    folder = tempfile.mkdtemp(prefix="metrics-overhead-")
    url = f"sqlite:///{folder}/mission-control.db"
    upgrade(url)
    database = Database(url)
    timed = create_app(Settings(database_url=url, var_dir=folder), database)
    untimed = create_app(Settings(database_url=url, var_dir=folder), database)
    # The same app without the timing hooks: what every request costs without metrics.
    observe = next(f for f in untimed.after_request_funcs[None] if f.__name__ == "observe")
    untimed.after_request_funcs[None].remove(observe)
    untimed.before_request_funcs[None].remove(metrics._start)
    token = token_for(database, "ada", "operator")
    headers = {"Authorization": f"Bearer {token}", "Host": "127.0.0.1:5000"}
    anonymous = {"Host": "127.0.0.1:5000"}
    with_metrics, without = timed.test_client(), untimed.test_client()
    for client in (with_metrics, without):  # warm up: caches, label children, files
        for _ in range(200):
            client.get("/api/catalog", headers=headers)
    for run in range(runs):
        with timed.test_request_context("/api/catalog", headers=headers):
            response = timed.make_response(({}, 200))

            def hooks():
                metrics._start()
                observe(response)

            hook_us = cpu_us(hooks, 20_000)
        on = cpu_us(lambda: with_metrics.get("/api/catalog", headers=headers), 1_000)
        off = cpu_us(lambda: without.get("/api/catalog", headers=headers), 1_000)
        scrape_ms = cpu_us(lambda: with_metrics.get("/metrics", headers=anonymous), 200) / 1000
        print(f"{mode}, run {run + 1}: timing hooks {hook_us:.1f} us CPU per request "
              f"({hook_us / on:.2%} of a whole GET /api/catalog: {on:.0f} us with metrics, "
              f"{off:.0f} us without); a scrape of /metrics {scrape_ms:.2f} ms", flush=True)
    database.dispose()


def main() -> None:
    runs = int(os.environ.get("RUNS", "3"))
    if len(sys.argv) > 1 and sys.argv[1] == "--mode":
        measure(sys.argv[2], runs)
        return
    env = {key: value for key, value in os.environ.items() if key != "PROMETHEUS_MULTIPROC_DIR"}
    subprocess.run([sys.executable, "-m", "bench.metrics_overhead", "--mode", "in-process"],
                   env=env, check=True)
    with tempfile.TemporaryDirectory(prefix="metrics-overhead-mp-") as folder:
        subprocess.run([sys.executable, "-m", "bench.metrics_overhead", "--mode", "multiprocess"],
                       env={**env, "PROMETHEUS_MULTIPROC_DIR": folder}, check=True)


if __name__ == "__main__":
    main()
